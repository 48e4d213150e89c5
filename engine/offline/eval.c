#include "offline/eval.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine_int.h"
#include "base/util.h"

#define MAX_LINE (1u << 20)
#define READ_CHUNK (4u << 20)

/* Where every stored event sits, for ordering them by time: before the
 * sort key holds at, after ord_keys it holds (at - min) << 32 | seq. */
typedef struct ord {
    uint64_t key;
    uint32_t seq;
    uint32_t cidx;
    uint32_t seq_hi;         /* sequence numbers past 2^32 (databases) */
} ord;

/* An event id seen, for duplicates: its hash and where it lives. */
typedef struct seen {
    uint64_t idhash;         /* 0 = empty slot */
    uint64_t body;
    uint64_t seq;
    uint32_t cidx;
    uint32_t line;
} seen;

struct cw_eval {
    cw_engine *e;
    cw_evparser *p;
    uint8_t *rec;
    size_t reccap;
    ord *ord;
    size_t nord, capord;
    bool sorted;
    seen *ids;
    size_t nids, capids;     /* capids: power of two */
    uint64_t seq;
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

cw_eval *cw_eval_new(cw_engine *e)
{
    cw_eval *ev = cw_xcalloc(1, sizeof *ev);

    ev->e = e;
    ev->p = cw_evparser_new();
    ev->sorted = true;
    return ev;
}

void cw_eval_free(cw_eval *ev)
{
    if (ev == NULL)
        return;
    cw_evparser_free(ev->p);
    free(ev->rec);
    free(ev->ord);
    free(ev->ids);
    free(ev);
}

static void ids_grow(cw_eval *ev)
{
    size_t n = ev->capids ? ev->capids * 2 : 1u << 16;
    seen *t = cw_xcalloc(n, sizeof *t);

    for (size_t i = 0; i < ev->capids; i++) {
        size_t j;
        if (ev->ids[i].idhash == 0)
            continue;
        for (j = ev->ids[i].idhash & (n - 1); t[j].idhash; j = (j + 1) & (n - 1))
            ;
        t[j] = ev->ids[i];
    }
    free(ev->ids);
    ev->ids = t;
    ev->capids = n;
}

/* The slot of id (hash h): a match, or the empty slot to fill. */
static seen *id_slot(cw_eval *ev, uint64_t h, const char *id)
{
    size_t j;

    for (j = h & (ev->capids - 1); ev->ids[j].idhash; j = (j + 1) & (ev->capids - 1)) {
        seen *s = &ev->ids[j];
        const uint8_t *r;
        if (s->idhash != h)
            continue;
        r = cw_case_record(ev->e->cases[s->cidx], s->seq);
        if (r != NULL && strcmp(cw_rec_id(r), id) == 0)
            return s;
    }
    return &ev->ids[j];
}

static void report_to(const cw_eval_opts *o, const char *name, size_t line, const cw_event_error *e)
{
    char msg[512];

    if (o->on_error)
        o->on_error(o->ud, line, e);
    if (o->errors == NULL)
        return;
    cw_event_error_format(e, msg, sizeof msg);
    fprintf(o->errors, "%s:%zu: %s\n", name, line, msg);
}


int cw_eval_add(cw_eval *ev, const char *json, size_t len, const char *name, size_t line,
                const cw_eval_opts *o, cw_eval_stats *st, cw_err *err)
{
    return cw_eval_add_seq(ev, json, len, ev->seq + 1, name, line, o, st, err);
}

int cw_eval_add_seq(cw_eval *ev, const char *json, size_t len, uint64_t seq, const char *name,
                    size_t line, const cw_eval_opts *o, cw_eval_stats *st, cw_err *err)
{
    cw_event_error ee;
    cw_pevent pe;
    cw_case *c;
    uint32_t csid;
    uint64_t h, body;
    seen *s;
    bool in_order;
    int rc, size;

    st->lines++;
    if ((rc = cw_evparse(ev->p, ev->e->rs->cat, json, len, &pe, &ee)) < 0) {
        st->rejected++;
        report_to(o, name, line, &ee);
        return o->strict ? cw_err_set(err, rc, "%s:%zu: bad event", name, line) : rc;
    }
    if (o->parse_only) {
        st->accepted++;
        return 0;
    }
    if (o->now != CW_TIME_NONE && pe.at > o->now) {
        st->future++;
        return 0;
    }
    ev->seq = seq;
    /* the id's slot is a cache miss in a big table: ask for it now, and
     * encode meanwhile */
    h = cw_hash(pe.id.p, pe.id.len) | 1;
    if (ev->nids * 2 >= ev->capids)
        ids_grow(ev);
    __builtin_prefetch(&ev->ids[h & (ev->capids - 1)]);
    if ((size = cw_engine_encode(ev->e, &pe, ev->seq, &ev->rec, &ev->reccap, err)) < 0) {
        memset(&ee, 0, sizeof ee);
        snprintf(ee.id, sizeof ee.id, "%s", pe.id.p);
        snprintf(ee.field, sizeof ee.field, "data");
        snprintf(ee.msg, sizeof ee.msg, "%s", err->msg);
        st->rejected++;
        report_to(o, name, line, &ee);
        return o->strict ? cw_err_set(err, CW_EEVENT, "%s:%zu: bad event", name, line) : CW_EEVENT;
    }
    csid = cw_engine_case_sid(ev->e, pe.case_id.p, pe.case_id.len);
    body = cw_rec_body_hash(ev->rec, csid);
    s = id_slot(ev, h, pe.id.p);
    if (s->idhash != 0) {
        if (s->body == body) {
            st->duplicates++;
            return 1;
        }
        memset(&ee, 0, sizeof ee);
        snprintf(ee.id, sizeof ee.id, "%s", pe.id.p);
        snprintf(ee.field, sizeof ee.field, "id");
        snprintf(ee.msg, sizeof ee.msg, "conflicts with line %u (same id, different content)",
                 s->line);
        st->rejected++;
        report_to(o, name, line, &ee);
        return o->strict ? cw_err_set(err, CW_ECONFLICT, "%s:%zu: conflicting event", name, line)
                         : CW_ECONFLICT;
    }
    cw_engine_store(ev->e, csid, ev->rec, &c, &in_order);
    s->idhash = h;
    s->body = body;
    s->seq = ev->seq;
    s->cidx = c->idx;
    s->line = (uint32_t)line;
    ev->nids++;
    CW_GROW(ev->ord, ev->capord, ev->nord + 1);
    if (ev->nord > 0 && (cw_time)ev->ord[ev->nord - 1].key > pe.at)
        ev->sorted = false;
    ev->ord[ev->nord].key = (uint64_t)pe.at;
    ev->ord[ev->nord].seq = (uint32_t)ev->seq;
    ev->ord[ev->nord].seq_hi = (uint32_t)(ev->seq >> 32);
    ev->ord[ev->nord].cidx = c->idx;
    ev->nord++;
    st->accepted++;
    return 0;
}

int cw_eval_read(cw_eval *ev, const char *path, const cw_eval_opts *o, cw_eval_stats *st,
                 cw_err *err)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    size_t cap = READ_CHUNK + MAX_LINE, have = 0, lineno = 0, next_progress = 1000000;
    bool skipping = false, eof = false;
    double t0 = now_s();
    int rc = 0;

    if (fd < 0)
        return cw_err_set(err, CW_EIO, "%s: %s", path, strerror(errno));
    buf = cw_xmalloc(cap);
    while (!eof || have > 0) {
        char *nl, *line = buf;
        ssize_t got = 0;
        if (!eof) {
            got = read(fd, buf + have, cap - have);
            if (got < 0) {
                if (errno == EINTR)
                    continue;
                rc = cw_err_set(err, CW_EIO, "%s: %s", path, strerror(errno));
                break;
            }
            if (got == 0)
                eof = true;
            have += (size_t)got;
        }
        for (;;) {
            size_t len;
            nl = memchr(line, '\n', have - (size_t)(line - buf));
            if (nl == NULL) {
                if (!eof || line == buf + have)
                    break;
                nl = buf + have;        /* a last line without newline */
            }
            len = (size_t)(nl - line);
            lineno++;
            if (skipping) {
                skipping = false;       /* the tail of an overlong line */
            } else {
                size_t i = 0;
                while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
                    i++;
                if (i < len) {
                    rc = cw_eval_add(ev, line, len, name, lineno, o, st, err);
                    if (rc < 0 && o->strict)
                        goto out;
                    rc = 0;
                }
            }
            line = nl < buf + have ? nl + 1 : nl;
            if (o->progress && lineno >= next_progress) {
                fprintf(o->progress, "casewarden: %zu lines read (%.1f s)\n", lineno, now_s() - t0);
                next_progress += 1000000;
            }
        }
        /* keep the unfinished line; refuse it when it is overlong */
        have -= (size_t)(line - buf);
        memmove(buf, line, have);
        if (have >= MAX_LINE) {
            if (!skipping) {
                cw_event_error ee;
                memset(&ee, 0, sizeof ee);
                snprintf(ee.msg, sizeof ee.msg, "line longer than %u bytes", MAX_LINE);
                report_to(o, name, lineno + 1, &ee);
                st->lines++;
                st->rejected++;
                if (o->strict) {
                    rc = cw_err_set(err, CW_ELIMIT, "%s:%zu: line too long", name, lineno + 1);
                    goto out;
                }
            }
            have = 0;
            skipping = true;
        }
        if (eof && have == 0)
            break;
    }
out:
    if (fd != 0)
        close(fd);
    free(buf);
    st->read_s += now_s() - t0;
    return rc;
}

static int ord_cmp(const void *pa, const void *pb)
{
    const ord *a = pa, *b = pb;

    uint64_t sa = (uint64_t)a->seq_hi << 32 | a->seq, sb = (uint64_t)b->seq_hi << 32 | b->seq;

    if (a->key != b->key)
        return (cw_time)a->key < (cw_time)b->key ? -1 : 1;
    return sa < sb ? -1 : sa > sb;
}

/*
 * Order events by (at, seq). A file that is already in time order costs
 * nothing; otherwise an LSD radix sort on (at - earliest) << 32 | seq,
 * eight bits a pass, skipping the passes where every key agrees. Spans
 * of more than 136 years fall back to qsort.
 */
static void order(cw_eval *ev)
{
    size_t n = ev->nord, count[256];
    cw_time lo = INT64_MAX, hi = INT64_MIN;
    ord *tmp, *src = ev->ord, *dst;

    if (ev->sorted || n < 2)
        return;
    for (size_t i = 0; i < n; i++) {
        cw_time at = (cw_time)src[i].key;
        lo = at < lo ? at : lo;
        hi = at > hi ? at : hi;
    }
    if ((uint64_t)(hi - lo) >= (1ULL << 32) || ev->seq >= (1ULL << 32)) {
        qsort(src, n, sizeof *src, ord_cmp);
        return;
    }
    for (size_t i = 0; i < n; i++)
        src[i].key = ((uint64_t)((cw_time)src[i].key - lo) << 32) | src[i].seq;
    tmp = cw_xmalloc(n * sizeof *tmp);
    dst = tmp;
    for (int shift = 0; shift < 64; shift += 8) {
        size_t sum = 0;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(src[i].key >> shift) & 0xff]++;
        if (count[(src[0].key >> shift) & 0xff] == n)
            continue;
        for (int b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            dst[count[(src[i].key >> shift) & 0xff]++] = src[i];
        ord *t = src;
        src = dst;
        dst = t;
    }
    if (src != ev->ord)
        memcpy(ev->ord, src, n * sizeof *src);
    free(tmp);
}

void cw_eval_run(cw_eval *ev, const cw_eval_opts *o, cw_eval_stats *st)
{
    double t0 = now_s();

    (void)o;
    order(ev);
    /* everything is read: give back what the timelines grew ahead */
    cw_engine_trim(ev->e);
    /* Each case's timeline is ordered by (at, seq) too, so the i-th event
     * in time order is always the next unprocessed one of its case. */
    for (size_t i = 0; i < ev->nord; i++)
        cw_engine_process_next(ev->e, ev->e->cases[ev->ord[i].cidx]);
    ev->nord = 0;
    ev->sorted = true;
    cw_engine_trim(ev->e);
    st->process_s += now_s() - t0;
}
