/*
 * Evaluation without a database: every line parsed and checked, the
 * same event again told from a conflict, then a time-ordered run
 * (core/run.h) over what was read, its findings flushed into a results
 * table as it goes (offline/results.h) so that settled cases leave
 * memory. The findings do not depend on the order of the lines.
 */
#include "offline/eval.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/util.h"
#include "core/engine_int.h"
#include "core/run.h"
#include "offline/results.h"

#define MAX_LINE (1u << 20)
#define READ_CHUNK (4u << 20)
#define FLUSH_EVERY 4096             /* events between flushes into the results */

/* An event id seen: its hash, the event that had it, and its case. */
typedef struct seen {
    uint64_t idhash;         /* 0 = empty slot */
    uint32_t evno, csid;
} seen;

struct cw_eval {
    cw_engine *e;
    cw_evparser *p;
    uint8_t *rec;
    size_t reccap;
    cw_run *run;
    uint32_t *line;          /* by event number: its line */
    size_t capline;
    seen *ids;
    size_t nids, capids;     /* capids: power of two */
    cw_results *res;
    cw_time now;             /* the evaluation's now, for flushes */
};

cw_eval *cw_eval_new(cw_engine *e)
{
    cw_eval *ev = cw_xcalloc(1, sizeof *ev);

    ev->e = e;
    ev->p = cw_evparser_new();
    ev->res = cw_results_new(e);
    ev->run = cw_run_new(e);
    ev->now = CW_TIME_NONE;
    return ev;
}

void cw_eval_free(cw_eval *ev)
{
    if (ev == NULL)
        return;
    cw_evparser_free(ev->p);
    free(ev->rec);
    cw_run_free(ev->run);
    free(ev->line);
    free(ev->ids);
    cw_results_free(ev->res);
    free(ev);
}

/* ---- reading ------------------------------------------------------------------ */

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

/* The slot of id (hash h): the event that had it, or the empty slot to
 * fill. A hash match is checked against the record itself. */
static seen *id_slot(cw_eval *ev, uint64_t h, const char *id)
{
    size_t j;

    for (j = h & (ev->capids - 1); ev->ids[j].idhash; j = (j + 1) & (ev->capids - 1)) {
        seen *s = &ev->ids[j];
        const uint8_t *r;
        if (s->idhash != h)
            continue;
        r = cw_run_record(ev->run, s->evno);
        if (r != NULL && strcmp(cw_rec_id(r), id) == 0)
            return s;
    }
    return &ev->ids[j];
}

void cw_eval_report(const cw_eval_opts *o, const char *name, size_t line, const cw_event_error *e)
{
    char msg[512];

    if (o->on_error)
        o->on_error(o->ud, line, e);
    if (o->errors == NULL)
        return;
    cw_event_error_format(e, msg, sizeof msg);
    fprintf(o->errors, "%s:%zu: %s\n", name, line, msg);
}

/* A record the engine refused (too many fields or items). */
static int refused(const cw_eval_opts *o, const char *name, size_t line, const cw_pevent *pe,
                   cw_eval_stats *st, cw_err *err)
{
    cw_event_error ee;

    memset(&ee, 0, sizeof ee);
    snprintf(ee.id, sizeof ee.id, "%s", pe->id.p);
    snprintf(ee.field, sizeof ee.field, "data");
    snprintf(ee.msg, sizeof ee.msg, "%s", err->msg);
    st->rejected++;
    cw_eval_report(o, name, line, &ee);
    return o->strict ? cw_err_set(err, CW_EEVENT, "%s:%zu: bad event", name, line) : CW_EEVENT;
}

/* The same id seen before: the same event again (0, counted), or a
 * conflict (reported). */
static int seen_before(cw_eval *ev, const seen *s, uint64_t body, const char *id,
                       const cw_eval_opts *o, const char *name, size_t line, cw_eval_stats *st,
                       cw_err *err)
{
    const uint8_t *r = cw_run_record(ev->run, s->evno);
    cw_event_error ee;

    if (r != NULL && cw_rec_body_hash(r, s->csid) == body) {
        st->duplicates++;
        return 0;
    }
    memset(&ee, 0, sizeof ee);
    snprintf(ee.id, sizeof ee.id, "%s", id);
    snprintf(ee.field, sizeof ee.field, "id");
    snprintf(ee.msg, sizeof ee.msg, "conflicts with line %u (same id, different content)",
             ev->line[s->evno]);
    st->rejected++;
    cw_eval_report(o, name, line, &ee);
    return o->strict ? cw_err_set(err, CW_ECONFLICT, "%s:%zu: conflicting event", name, line)
                     : CW_ECONFLICT;
}

int cw_eval_add(cw_eval *ev, const char *json, size_t len, const char *name, size_t line,
                const cw_eval_opts *o, cw_eval_stats *st, cw_err *err)
{
    cw_event_error ee;
    cw_pevent pe;
    uint32_t csid, evno = (uint32_t)cw_run_size(ev->run);
    uint64_t h, body;
    seen *s;
    int rc;

    st->lines++;
    cw_evparser_set_now(ev->p, o->now);
    if ((rc = cw_evparse(ev->p, ev->e->rs->cat, json, len, &pe, &ee)) < 0) {
        st->rejected++;
        cw_eval_report(o, name, line, &ee);
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
    /* the id's slot is a cache miss in a big table: ask for it now, and
     * encode meanwhile */
    h = cw_hash(pe.id.p, pe.id.len) | 1;
    if (ev->nids * 4 >= ev->capids * 3)
        ids_grow(ev);
    __builtin_prefetch(&ev->ids[h & (ev->capids - 1)]);
    if (cw_engine_encode(ev->e, &pe, evno + 1, &ev->rec, &ev->reccap, err) < 0)
        return refused(o, name, line, &pe, st, err);
    csid = cw_engine_case_sid(ev->e, pe.case_id.p, pe.case_id.len);
    s = id_slot(ev, h, pe.id.p);
    if (s->idhash != 0) {
        body = cw_rec_body_hash(ev->rec, csid);
        return seen_before(ev, s, body, pe.id.p, o, name, line, st, err);
    }
    s->idhash = h;
    s->evno = evno;
    s->csid = csid;
    ev->nids++;
    cw_run_add(ev->run, ev->rec, csid);
    CW_GROW(ev->line, ev->capline, (size_t)evno + 1);
    ev->line[evno] = (uint32_t)line;
    st->accepted++;
    return 0;
}

int cw_eval_add_checked(cw_eval *ev, const cw_pevent *pe, uint64_t seq, cw_err *err)
{
    uint32_t csid;

    if (cw_engine_encode(ev->e, pe, seq, &ev->rec, &ev->reccap, err) < 0)
        return CW_ELIMIT;
    csid = cw_engine_case_sid(ev->e, pe->case_id.p, pe->case_id.len);
    cw_run_add(ev->run, ev->rec, csid);
    return 0;
}

static int add_line(void *ud, const char *json, size_t len, const char *name, size_t line,
                    const cw_eval_opts *o, cw_eval_stats *st, cw_err *err)
{
    return cw_eval_add(ud, json, len, name, line, o, st, err);
}

int cw_eval_read(cw_eval *ev, const char *path, const cw_eval_opts *o, cw_eval_stats *st,
                 cw_err *err)
{
    return cw_eval_lines(path, add_line, ev, o, st, err);
}

int cw_eval_lines(const char *path, cw_eval_line_fn *fn, void *ud, const cw_eval_opts *o,
                  cw_eval_stats *st, cw_err *err)
{
    const char *name = strcmp(path, "-") == 0 ? "<stdin>" : path;
    int fd = strcmp(path, "-") == 0 ? 0 : open(path, O_RDONLY | O_CLOEXEC);
    char *buf;
    size_t cap = READ_CHUNK + MAX_LINE, have = 0, lineno = 0, next_progress = 1000000;
    bool skipping = false, eof = false;
    double t0 = cw_mono_s();
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
                    rc = fn(ud, line, len, name, lineno, o, st, err);
                    if (rc < 0 && o->strict)
                        goto out;
                    rc = 0;
                }
            }
            line = nl < buf + have ? nl + 1 : nl;
            if (o->progress && lineno >= next_progress) {
                fprintf(o->progress, "casewarden: %zu lines read (%.1f s)\n", lineno,
                        cw_mono_s() - t0);
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
                cw_eval_report(o, name, lineno + 1, &ee);
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
    st->read_s += cw_mono_s() - t0;
    return rc;
}

/* ---- running -------------------------------------------------------------------- */

static void flush_results(void *ud)
{
    cw_eval *ev = ud;
    cw_sink sink = cw_results_sink(ev->res);
    size_t changes;

    cw_engine_flush(ev->e, ev->now, &sink, &changes);
    cw_engine_flush_end(ev->e, true);
}

void cw_eval_run(cw_eval *ev, const cw_eval_opts *o, cw_eval_stats *st)
{
    double t0 = cw_mono_s();

    ev->now = o->now;
    cw_run_process(ev->run, flush_results, ev, FLUSH_EVERY);
    flush_results(ev);
    st->process_s += cw_mono_s() - t0;
}

int cw_eval_each_finding(cw_eval *ev, int (*fn)(void *ud, const cw_finding *f), void *ud)
{
    flush_results(ev);
    return cw_results_each(ev->res, fn, ud);
}

/* A copy that outlives the evaluation: the event ids are stored after
 * their pointers, in the one block cw_finding_clear frees. */
static int collect(void *ud, const cw_finding *f)
{
    cw_findings *out = ud;
    size_t len = (f->nevents + 1) * sizeof *f->events;
    const char **ids;
    char *o;

    for (unsigned i = 0; i < f->nevents; i++)
        len += strlen(f->events[i]) + 1;
    ids = cw_xmalloc(len);
    o = (char *)(ids + f->nevents + 1);
    for (unsigned i = 0; i < f->nevents; i++) {
        size_t l = strlen(f->events[i]) + 1;
        memcpy(o, f->events[i], l);
        ids[i] = o;
        o += l;
    }
    ids[f->nevents] = NULL;
    CW_GROW(out->v, out->cap, out->n + 1);
    out->v[out->n] = *f;
    out->v[out->n].message = cw_xstrdup(f->message);
    out->v[out->n].events = ids;
    out->n++;
    return 0;
}

void cw_eval_findings(cw_eval *ev, cw_findings *out)
{
    cw_eval_each_finding(ev, collect, out);
}

size_t cw_eval_memory(const cw_eval *ev)
{
    return ev->capline * sizeof *ev->line + ev->capids * sizeof *ev->ids +
           cw_results_memory(ev->res);
}
