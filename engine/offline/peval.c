/*
 * A threaded evaluation: one reader, N engines (offline/peval.h).
 *
 * The reader does what cw_eval_add does before it stores an event: parse
 * and check, leave out what comes after `now`, encode (into a world of
 * its own, so that the record limits refuse exactly what one engine
 * refuses and the same event again is told from a conflict by the same
 * body digest), and number the events accepted. Each accepted event is
 * then packed, with its parsed fields, into the batch of the thread that
 * owns its case and, when that is another, into thread 0's (the
 * cross-case rules see every event). A batch goes into its thread's
 * queue when full; a queue holds at most QCAP batches and the reader
 * waits when it is full, so memory in flight is bounded.
 */
#include "offline/peval.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "base/strtab.h"
#include "base/util.h"
#include "core/engine_int.h"
#include "lease/lease.h"

#define BATCH_BYTES (64u << 10)
#define QCAP 8

/* A batch of packed events for one thread; NULL in a queue ends it. */
typedef struct batch {
    uint8_t *p;
    size_t n, cap;
} batch;

typedef struct queue {
    pthread_mutex_t mu;
    pthread_cond_t nonempty, nonfull;
    batch *slot[QCAP];
    unsigned head, count;
} queue;

/* One event as packed: this header, then nf fields, nitems list items,
 * then the text of every slice; slices hold offsets from the header
 * until the thread points them back into the batch. */
typedef struct packed {
    uint64_t seq;
    uint32_t size;           /* bytes of the whole, a multiple of 8 */
    uint32_t nitems;
    cw_pevent pe;
} packed;

typedef struct worker {
    cw_peval *pv;
    unsigned k;
    pthread_t tid;
    bool started;
    cw_engine *e;
    cw_eval *ev;
    queue q;
    batch *cur;              /* the reader's batch being filled */
    cw_eval_opts o;          /* the run's, set before the end of input */
    cw_eval_stats st;
    cw_findings out;
    size_t failed;           /* events it could not store */
    double store_s;          /* storing what it was given */
    double cpu_s;            /* the thread's CPU time, all told */
    cw_err err;
} worker;

struct cw_peval {
    unsigned n;
    bool cross;              /* some rule is cross-case: thread 0 runs them */
    worker *w;
    bool done;               /* the end of input was sent */
    bool abandon;            /* ... without a run: the threads judge nothing */
    /* the reader */
    const cw_catalogue *cat;
    cw_evparser *p;
    cw_world *rw;
    uint8_t *rec;
    size_t reccap;
    cw_strtab *ids;          /* event ids seen; by id: */
    uint32_t *line;          /* the line that had it */
    uint64_t *body;          /* its body digest */
    size_t capline, capbody;
    uint8_t *owner;          /* by case string id in rw: its thread + 1; 0 not known yet */
    size_t capowner;
    uint64_t nev;            /* events accepted */
    double read_cpu_s;       /* the reader's CPU time */
};

/* ---- queues ----------------------------------------------------------------------- */

static void q_init(queue *q)
{
    pthread_mutex_init(&q->mu, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    pthread_cond_init(&q->nonfull, NULL);
    q->head = q->count = 0;
}

static void q_destroy(queue *q)
{
    pthread_mutex_destroy(&q->mu);
    pthread_cond_destroy(&q->nonempty);
    pthread_cond_destroy(&q->nonfull);
}

/* Waits while the queue is full. b NULL: the end of input. */
static void q_push(queue *q, batch *b)
{
    pthread_mutex_lock(&q->mu);
    while (q->count == QCAP)
        pthread_cond_wait(&q->nonfull, &q->mu);
    q->slot[(q->head + q->count) % QCAP] = b;
    q->count++;
    pthread_cond_signal(&q->nonempty);
    pthread_mutex_unlock(&q->mu);
}

static batch *q_pop(queue *q)
{
    batch *b;

    pthread_mutex_lock(&q->mu);
    while (q->count == 0)
        pthread_cond_wait(&q->nonempty, &q->mu);
    b = q->slot[q->head];
    q->head = (q->head + 1) % QCAP;
    q->count--;
    pthread_cond_signal(&q->nonfull);
    pthread_mutex_unlock(&q->mu);
    return b;
}

static void batch_free(batch *b)
{
    if (b != NULL)
        free(b->p);
    free(b);
}

/* ---- packing ---------------------------------------------------------------------- */

static size_t align8(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

/* The text of a slice after the others, its offset in place of its pointer. */
static void put_text(uint8_t *base, size_t *at, cw_slice *s)
{
    size_t off = *at;

    if (s->p != NULL)
        memcpy(base + off, s->p, s->len);
    base[off + s->len] = 0;
    s->p = (const char *)(uintptr_t)off;
    *at = off + s->len + 1;
}

static bool has_text(uint8_t kind)
{
    return kind == CW_V_STR || kind == CW_V_RAW;
}

/* Append pe, as event number seq, to b. */
static void pack(batch *b, const cw_pevent *pe, uint64_t seq)
{
    uint32_t nitems = 0;
    size_t need, at;
    packed *h;
    cw_pfield *f;
    cw_slice *items;
    uint8_t *base;

    for (uint32_t i = 0; i < pe->nf; i++)
        if (pe->f[i].kind == CW_V_LIST && pe->f[i].item0 + pe->f[i].nitems > nitems)
            nitems = pe->f[i].item0 + pe->f[i].nitems;
    need = sizeof *h + pe->nf * sizeof *f + nitems * sizeof *items;
    need += pe->id.len + pe->case_id.len + pe->unit.len + pe->actor.len + 4;
    for (uint32_t i = 0; i < pe->nf; i++)
        need += pe->f[i].key.len + 1 + (has_text(pe->f[i].kind) ? pe->f[i].s.len + 1 : 0);
    for (uint32_t j = 0; j < nitems; j++)
        need += pe->items[j].len + 1;
    need = align8(need);
    if (b->cap - b->n < need) {
        size_t c = b->cap ? b->cap : BATCH_BYTES + 4096;
        while (c - b->n < need)
            c *= 2;
        b->p = cw_xrealloc(b->p, c);
        b->cap = c;
    }
    base = b->p + b->n;
    h = (packed *)base;
    h->seq = seq;
    h->size = (uint32_t)need;
    h->nitems = nitems;
    h->pe = *pe;
    f = (cw_pfield *)(base + sizeof *h);
    items = (cw_slice *)(f + pe->nf);
    if (pe->nf)
        memcpy(f, pe->f, pe->nf * sizeof *f);
    if (nitems)
        memcpy(items, pe->items, nitems * sizeof *items);
    at = sizeof *h + pe->nf * sizeof *f + nitems * sizeof *items;
    put_text(base, &at, &h->pe.id);
    put_text(base, &at, &h->pe.case_id);
    put_text(base, &at, &h->pe.unit);
    put_text(base, &at, &h->pe.actor);
    for (uint32_t i = 0; i < pe->nf; i++) {
        put_text(base, &at, &f[i].key);
        if (has_text(f[i].kind))
            put_text(base, &at, &f[i].s);
        else
            f[i].s = (cw_slice){ NULL, 0 };
    }
    for (uint32_t j = 0; j < nitems; j++)
        put_text(base, &at, &items[j]);
    b->n += need;
}

static void unslice(const uint8_t *base, cw_slice *s)
{
    if (s->p != NULL || s->len != 0)
        s->p = (const char *)base + (uintptr_t)s->p;
}

/* The packed event at h, its pointers turned back into the batch. */
static cw_pevent *unpack(packed *h)
{
    uint8_t *base = (uint8_t *)h;
    cw_pfield *f = (cw_pfield *)(base + sizeof *h);
    cw_slice *items = (cw_slice *)(f + h->pe.nf);

    h->pe.f = f;
    h->pe.items = items;
    unslice(base, &h->pe.id);
    unslice(base, &h->pe.case_id);
    unslice(base, &h->pe.unit);
    unslice(base, &h->pe.actor);
    for (uint32_t i = 0; i < h->pe.nf; i++) {
        unslice(base, &f[i].key);
        if (has_text(f[i].kind))
            unslice(base, &f[i].s);
    }
    for (uint32_t j = 0; j < h->nitems; j++)
        unslice(base, &items[j]);
    return &h->pe;
}

/* ---- the threads -------------------------------------------------------------------- */

/* The thread that owns a case: by its partition. With cross-case rules,
 * thread 0 runs them over every case, which is the largest share of the
 * work of the shipped rules, and owns no partition itself. */
static unsigned owner_of(const cw_peval *pv, const char *case_id, size_t len)
{
    unsigned p = cw_lease_part(case_id, len, CW_PEVAL_PARTS);

    return pv->cross ? 1 + p % (pv->n - 1) : p % pv->n;
}

/* Thread 0's question: is this case another thread's? */
static bool case_foreign(void *ud, const char *case_id)
{
    const worker *w = ud;

    return owner_of(w->pv, case_id, strlen(case_id)) != w->k;
}

/* Output order, as offline/results.c gives it: case number, rule id, subject. */
static int finding_cmp(const void *pa, const void *pb)
{
    const cw_finding *a = pa, *b = pb;
    int d;

    if ((d = strcmp(a->case_id, b->case_id)) != 0)
        return d;
    if ((d = strcmp(a->rule->info.id, b->rule->info.id)) != 0)
        return d;
    return strcmp(a->subject, b->subject);
}

static double thread_cpu_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *work(void *ud)
{
    worker *w = ud;
    batch *b;

    while ((b = q_pop(&w->q)) != NULL) {
        double t0 = cw_mono_s();
        for (size_t at = 0; at < b->n;) {
            packed *h = (packed *)(b->p + at);
            cw_pevent *pe = unpack(h);
            if (cw_eval_add_checked(w->ev, pe, h->seq, &w->err) < 0)
                w->failed++;
            at += h->size;
        }
        batch_free(b);
        w->store_s += cw_mono_s() - t0;
    }
    if (w->pv->abandon)
        return NULL;
    cw_eval_run(w->ev, &w->o, &w->st);
    cw_eval_findings(w->ev, &w->out);
    w->cpu_s = thread_cpu_s();
    return NULL;
}

cw_peval *cw_peval_new(unsigned n, cw_world *const *wd, cw_ruleset *const *rs)
{
    cw_peval *pv = cw_xcalloc(1, sizeof *pv);

    pv->n = n;
    for (size_t i = 0; i < rs[0]->nrules; i++)
        pv->cross = pv->cross || rs[0]->rules[i]->cross;
    pv->w = cw_xcalloc(n, sizeof *pv->w);
    pv->cat = rs[0]->cat;
    pv->p = cw_evparser_new();
    pv->rw = cw_world_new();
    /* field ids are the names' ids in the first world: the same here, so
     * that a known field and a new name never share an id in a digest */
    for (uint32_t i = 1; i < cw_strtab_count(wd[0]->names); i++)
        cw_strtab_intern(pv->rw->names, cw_strtab_str(wd[0]->names, i),
                         cw_strtab_len(wd[0]->names, i));
    pv->ids = cw_strtab_new();
    for (unsigned k = 0; k < n; k++) {
        worker *w = &pv->w[k];
        w->pv = pv;
        w->k = k;
        w->e = cw_engine_new(wd[k], rs[k]);
        cw_engine_set_cross(w->e, k == 0);
        if (k == 0)
            cw_engine_set_foreign(w->e, case_foreign, w);
        w->ev = cw_eval_new(w->e);
        q_init(&w->q);
    }
    for (unsigned k = 0; k < n; k++) {
        int e = pthread_create(&pv->w[k].tid, NULL, work, &pv->w[k]);
        pv->w[k].started = e == 0;
        if (!pv->w[k].started) {
            cw_peval_free(pv);
            errno = e;
            return NULL;
        }
    }
    return pv;
}

/* Send the end of input (the batches still filling first) and wait for
 * every thread to finish its run. */
static void finish(cw_peval *pv)
{
    if (pv->done)
        return;
    pv->done = true;
    for (unsigned k = 0; k < pv->n; k++) {
        worker *w = &pv->w[k];
        if (!w->started) {
            batch_free(w->cur);
            w->cur = NULL;
            continue;
        }
        if (w->cur != NULL && w->cur->n > 0)
            q_push(&w->q, w->cur);
        else
            batch_free(w->cur);
        w->cur = NULL;
        q_push(&w->q, NULL);
    }
    for (unsigned k = 0; k < pv->n; k++)
        if (pv->w[k].started)
            pthread_join(pv->w[k].tid, NULL);
}

void cw_peval_free(cw_peval *pv)
{
    if (pv == NULL)
        return;
    if (!pv->done)
        pv->abandon = true;  /* seen by each thread after the end of its input */
    finish(pv);
    for (unsigned k = 0; k < pv->n; k++) {
        worker *w = &pv->w[k];
        while (w->q.count > 0)
            batch_free(q_pop(&w->q));
        q_destroy(&w->q);
        cw_findings_free(&w->out);
        cw_eval_free(w->ev);
        cw_engine_free(w->e);
    }
    free(pv->w);
    cw_evparser_free(pv->p);
    cw_world_free(pv->rw);
    free(pv->rec);
    cw_strtab_free(pv->ids);
    free(pv->line);
    free(pv->body);
    free(pv->owner);
    free(pv);
}

/* ---- reading ------------------------------------------------------------------------ */

static void send(cw_peval *pv, unsigned k, const cw_pevent *pe, uint64_t seq)
{
    worker *w = &pv->w[k];

    if (w->cur == NULL)
        w->cur = cw_xcalloc(1, sizeof *w->cur);
    pack(w->cur, pe, seq);
    if (w->cur->n >= BATCH_BYTES) {
        q_push(&w->q, w->cur);
        w->cur = NULL;
    }
}

static int bad(const cw_eval_opts *o, const char *name, size_t line, const cw_event_error *ee,
               int code, const char *what, cw_eval_stats *st, cw_err *err)
{
    st->rejected++;
    cw_eval_report(o, name, line, ee);
    return o->strict ? cw_err_set(err, code, "%s:%zu: %s", name, line, what) : code;
}

/* One line, as cw_eval_add takes it. */
static int read_line(void *ud, const char *json, size_t len, const char *name, size_t line,
                     const cw_eval_opts *o, cw_eval_stats *st, cw_err *err)
{
    cw_peval *pv = ud;
    cw_event_error ee;
    cw_pevent pe;
    size_t rlen = 0;
    uint32_t csid, id, nids;
    uint64_t body;
    unsigned owner;
    int rc;

    st->lines++;
    cw_evparser_set_now(pv->p, o->now);
    if ((rc = cw_evparse(pv->p, pv->cat, json, len, &pe, &ee)) < 0)
        return bad(o, name, line, &ee, rc, "bad event", st, err);
    if (o->parse_only) {
        st->accepted++;
        return 0;
    }
    if (o->now != CW_TIME_NONE && pe.at > o->now) {
        st->future++;
        return 0;
    }
    if (cw_rec_encode(pv->rw, &pe, pv->nev + 1, &pv->rec, &rlen, &pv->reccap) == 0) {
        memset(&ee, 0, sizeof ee);
        snprintf(ee.id, sizeof ee.id, "%s", pe.id.p);
        snprintf(ee.field, sizeof ee.field, "data");
        snprintf(ee.msg, sizeof ee.msg, "more than %d data fields or %d list items, or a new "
                 "data field name when 65535 are known", CW_MAX_FIELDS, CW_MAX_ITEMS);
        return bad(o, name, line, &ee, CW_EEVENT, "bad event", st, err);
    }
    csid = cw_strtab_intern(pv->rw->strs, pe.case_id.p, pe.case_id.len);
    body = cw_rec_body_hash(pv->rec, csid);
    nids = cw_strtab_count(pv->ids);
    id = cw_strtab_intern(pv->ids, pe.id.p, pe.id.len);
    if (id < nids) {
        if (pv->body[id] == body) {
            st->duplicates++;
            return 0;
        }
        memset(&ee, 0, sizeof ee);
        snprintf(ee.id, sizeof ee.id, "%s", pe.id.p);
        snprintf(ee.field, sizeof ee.field, "id");
        snprintf(ee.msg, sizeof ee.msg, "conflicts with line %u (same id, different content)",
                 pv->line[id]);
        return bad(o, name, line, &ee, CW_ECONFLICT, "conflicting event", st, err);
    }
    CW_GROW(pv->line, pv->capline, (size_t)id + 1);
    CW_GROW(pv->body, pv->capbody, (size_t)id + 1);
    pv->line[id] = (uint32_t)line;
    pv->body[id] = body;
    pv->nev++;
    CW_GROW_ZEROED(pv->owner, pv->capowner, csid);
    if (pv->owner[csid] == 0)
        pv->owner[csid] = (uint8_t)(owner_of(pv, pe.case_id.p, pe.case_id.len) + 1);
    owner = pv->owner[csid] - 1u;
    send(pv, owner, &pe, pv->nev);
    if (owner != 0 && pv->cross)
        send(pv, 0, &pe, pv->nev);
    st->accepted++;
    return 0;
}

int cw_peval_read(cw_peval *pv, const char *path, const cw_eval_opts *o, cw_eval_stats *st,
                  cw_err *err)
{
    double t0 = thread_cpu_s();
    int rc = cw_eval_lines(path, read_line, pv, o, st, err);

    pv->read_cpu_s += thread_cpu_s() - t0;
    return rc;
}

double cw_peval_read_cpu(const cw_peval *pv)
{
    return pv->read_cpu_s;
}

/* ---- running ------------------------------------------------------------------------ */

int cw_peval_run(cw_peval *pv, const cw_eval_opts *o, cw_eval_stats *st, cw_findings *out)
{
    double t0 = cw_mono_s();
    size_t total = 0;
    int rc = 0;

    for (unsigned k = 0; k < pv->n; k++)
        pv->w[k].o = *o;
    finish(pv);
    for (unsigned k = 0; k < pv->n; k++) {
        worker *w = &pv->w[k];
        if (w->failed > 0) {
            if (o->errors)
                fprintf(o->errors, "thread %u: %zu events not stored: %s\n", k, w->failed,
                        w->err.msg);
            rc = CW_ELIMIT;
        }
        total += w->out.n;
    }
    st->process_s += cw_mono_s() - t0;
    CW_GROW(out->v, out->cap, out->n + total);
    for (unsigned k = 0; k < pv->n; k++) {
        worker *w = &pv->w[k];
        memcpy(out->v + out->n, w->out.v, w->out.n * sizeof *w->out.v);
        out->n += w->out.n;
        w->out.n = 0;        /* out owns their messages and event lists now */
    }
    qsort(out->v, out->n, sizeof *out->v, finding_cmp);
    return rc;
}

size_t cw_peval_ncases(const cw_peval *pv)
{
    size_t n = 0;

    for (unsigned k = 0; k < pv->n; k++) {
        const cw_engine *e = pv->w[k].e;
        for (size_t i = 0; i < cw_engine_ncases(e); i++) {
            const cw_case *c = cw_engine_case_at(e, i);
            n += c != NULL && !c->foreign;
        }
    }
    return n;
}

void cw_peval_thread_times(const cw_peval *pv, unsigned k, double *store_s, double *run_s,
                           double *cpu_s)
{
    *store_s = pv->w[k].store_s;
    *run_s = pv->w[k].st.process_s;
    *cpu_s = pv->w[k].cpu_s;
}

size_t cw_peval_memory(const cw_peval *pv)
{
    size_t n = cw_strtab_bytes(pv->rw->strs) + cw_strtab_bytes(pv->rw->names) +
               cw_strtab_bytes(pv->ids) + pv->capline * sizeof *pv->line +
               pv->capbody * sizeof *pv->body + pv->capowner;

    for (unsigned k = 0; k < pv->n; k++)
        n += cw_engine_memory(pv->w[k].e) + cw_eval_memory(pv->w[k].ev);
    return n;
}
