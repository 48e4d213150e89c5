/*
 * A case's image: everything the engine holds of a case (header,
 * timeline, finding records with what the store holds of them) in a
 * form that means the same in another process. Records and finding
 * records name strings by ids of this process's tables; an image carries
 * its own small tables of the strings it uses and ids into them, and is
 * translated back on the way in. The rules' per-case states are not in
 * it: their models rebuild them from the timeline (case_free models,
 * through their events only).
 *
 *     "CWI1"
 *     u32 n, n x (u16 len, bytes)       names: event types, field names
 *     u32 n, n x (u32 len, bytes)       strings; index 0 is ""
 *     body: header, records, finding records (see put_body)
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/engine_int.h"

#define MAGIC "CWI1"

/* ---- a local table of ids --------------------------------------------------- */

typedef struct ltab {
    uint32_t *ids;           /* local index -> global id */
    size_t n, cap;
    uint32_t *slot;          /* global id -> local index + 1 */
    size_t nslot;
} ltab;

static uint32_t ltab_put(ltab *t, uint32_t id)
{
    size_t j;

    if (t->nslot == 0 || (t->n + 1) * 2 > t->nslot) {
        size_t n = t->nslot ? t->nslot * 2 : 64;
        free(t->slot);
        t->slot = cw_xcalloc(n, sizeof *t->slot);
        t->nslot = n;
        for (size_t i = 0; i < t->n; i++) {
            for (j = (t->ids[i] * 2654435761u) & (n - 1); t->slot[j]; j = (j + 1) & (n - 1))
                ;
            t->slot[j] = (uint32_t)i + 1;
        }
    }
    for (j = (id * 2654435761u) & (t->nslot - 1); t->slot[j]; j = (j + 1) & (t->nslot - 1))
        if (t->ids[t->slot[j] - 1] == id)
            return t->slot[j] - 1;
    CW_GROW(t->ids, t->cap, t->n + 1);
    t->ids[t->n] = id;
    t->slot[j] = (uint32_t)++t->n;
    return (uint32_t)t->n - 1;
}

static void ltab_free(ltab *t)
{
    free(t->ids);
    free(t->slot);
}

typedef struct imgw {
    const cw_engine *e;
    ltab names, strs;
    cw_buf body;
} imgw;

static uint32_t local_name(void *ud, uint32_t id)
{
    return ltab_put(&((imgw *)ud)->names, id);
}

static uint32_t local_str(void *ud, uint32_t id)
{
    return ltab_put(&((imgw *)ud)->strs, id);
}

static void put(cw_buf *b, const void *p, size_t n)
{
    cw_buf_put(b, p, n);
}

#define PUT(b, v) put((b), &(v), sizeof(v))

static void put_text(cw_buf *b, const char *s, size_t len, bool null)
{
    uint32_t n = null ? 0 : (uint32_t)len + 1;

    PUT(b, n);
    if (n > 0)
        put(b, s, len);
}

/* The length of "id\0id\0...\0" including the last NUL. */
static size_t evids_len(const char *p)
{
    const char *s = p;

    while (*s)
        s += strlen(s) + 1;
    return (size_t)(s - p) + 1;
}

static void put_body(imgw *w, const cw_case *c)
{
    cw_buf *b = &w->body;
    const cw_ruleset *rs = w->e->rs;
    uint32_t v;
    uint8_t *rec;

    v = local_str(w, c->id);
    PUT(b, v);
    v = local_str(w, c->unit);
    PUT(b, v);
    v = local_str(w, c->kind);
    PUT(b, v);
    v = local_str(w, c->cause);
    PUT(b, v);
    PUT(b, c->unit_from);
    PUT(b, c->has);
    PUT(b, c->accepted_at);
    PUT(b, c->offence_at);
    PUT(b, c->last_at);
    PUT(b, c->nev);
    PUT(b, c->len);
    /* the timeline, with its ids made local */
    rec = cw_xmalloc(c->len ? c->len : 1);
    memcpy(rec, c->tl, c->len);
    for (size_t off = 0; off < c->len; off += cw_rec_size(rec + off))
        cw_rec_map_ids(rec + off, local_name, local_str, w);
    put(b, rec, c->len);
    free(rec);
    PUT(b, c->nfr);
    for (uint32_t i = 0; i < c->nfr; i++) {
        const cw_frec *r = &c->fr[i];
        const char *rule = rs->rules[r->rule]->info.id;
        put_text(b, rule, strlen(rule), false);
        PUT(b, r->mode);
        PUT(b, r->fstate);
        PUT(b, r->flags);
        PUT(b, r->punit);
        v = local_str(w, r->subject);
        PUT(b, v);
        v = local_str(w, r->unit);
        PUT(b, v);
        v = local_str(w, r->plabel);
        PUT(b, v);
        PUT(b, r->lead);
        PUT(b, r->pn);
        PUT(b, r->pext);
        PUT(b, r->due);
        PUT(b, r->met);
        PUT(b, r->raised);
        PUT(b, r->pstart);
        PUT(b, r->whash);
        put_text(b, r->msg, r->msg ? strlen(r->msg) : 0, r->msg == NULL);
        put_text(b, r->evids, r->evids ? evids_len(r->evids) : 0, r->evids == NULL);
    }
}

/* The image: its magic, the names and strings it uses (local ids in the
 * body), then the body; the writer's tables and body are freed. */
static void put_image(imgw *w, cw_buf *out)
{
    const cw_engine *e = w->e;
    uint32_t n;

    cw_buf_put(out, MAGIC, 4);
    n = (uint32_t)w->names.n;
    PUT(out, n);
    for (size_t i = 0; i < w->names.n; i++) {
        const char *s = cw_strtab_str(e->w->names, w->names.ids[i]);
        uint16_t len = (uint16_t)strlen(s);
        PUT(out, len);
        put(out, s, len);
    }
    n = (uint32_t)w->strs.n;
    PUT(out, n);
    for (size_t i = 0; i < w->strs.n; i++) {
        uint32_t len = (uint32_t)cw_strtab_len(e->w->strs, w->strs.ids[i]);
        PUT(out, len);
        put(out, cw_strtab_str(e->w->strs, w->strs.ids[i]), len);
    }
    put(out, w->body.p, w->body.n);
    cw_buf_free(&w->body);
    ltab_free(&w->names);
    ltab_free(&w->strs);
}

void cw__case_image(const cw_engine *e, const cw_case *c, cw_buf *out)
{
    imgw w = { e, { 0 }, { 0 }, { 0 } };

    ltab_put(&w.strs, 0);           /* "" is local 0 as it is global 0 */
    put_body(&w, c);
    put_image(&w, out);
}

/* ---- reading an image --------------------------------------------------------- */

typedef struct imgr {
    const uint8_t *p, *end;
    bool bad;
    uint32_t *names, *strs;  /* local -> global */
    uint32_t nnames, nstrs;
} imgr;

static void get(imgr *r, void *v, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        memset(v, 0, n);
        return;
    }
    memcpy(v, r->p, n);
    r->p += n;
}

#define GET(r, v) get((r), &(v), sizeof(v))

static uint32_t global_name(void *ud, uint32_t id)
{
    imgr *r = ud;

    if (id >= r->nnames) {
        r->bad = true;
        return 0;
    }
    return r->names[id];
}

static uint32_t global_str(void *ud, uint32_t id)
{
    imgr *r = ud;

    if (id >= r->nstrs) {
        r->bad = true;
        return 0;
    }
    return r->strs[id];
}

static uint32_t get_str(imgr *r)
{
    uint32_t v;

    GET(r, v);
    return global_str(r, v);
}

/* A text of the image as a new string (NULL for an absent one). */
static char *get_text(imgr *r)
{
    uint32_t n;
    char *s;

    GET(r, n);
    if (n == 0 || r->bad)
        return NULL;
    if ((size_t)(r->end - r->p) < n - 1) {
        r->bad = true;
        return NULL;
    }
    s = cw_xmalloc(n);
    memcpy(s, r->p, n - 1);
    s[n - 1] = '\0';
    r->p += n - 1;
    return s;
}

static void get_tables(cw_engine *e, imgr *r)
{
    uint32_t n;

    GET(r, n);
    r->names = cw_xcalloc(n ? n : 1, sizeof *r->names);
    r->nnames = n;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint16_t len;
        GET(r, len);
        if ((size_t)(r->end - r->p) < len) {
            r->bad = true;
            break;
        }
        r->names[i] = cw_strtab_intern(e->w->names, (const char *)r->p, len);
        r->p += len;
    }
    GET(r, n);
    r->strs = cw_xcalloc(n ? n : 1, sizeof *r->strs);
    r->nstrs = n;
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t len;
        GET(r, len);
        if ((size_t)(r->end - r->p) < len) {
            r->bad = true;
            break;
        }
        r->strs[i] = cw_strtab_intern(e->w->strs, (const char *)r->p, len);
        r->p += len;
    }
}

static void get_frec(cw_engine *e, cw_case *c, imgr *r)
{
    char *rule = get_text(r);
    const cw_rule *ru = rule ? cw_ruleset_find(e->rs, rule) : NULL;
    cw_frec f;

    memset(&f, 0, sizeof f);
    GET(r, f.mode);
    GET(r, f.fstate);
    GET(r, f.flags);
    GET(r, f.punit);
    f.subject = get_str(r);
    f.unit = get_str(r);
    f.plabel = get_str(r);
    GET(r, f.lead);
    GET(r, f.pn);
    GET(r, f.pext);
    GET(r, f.due);
    GET(r, f.met);
    GET(r, f.raised);
    GET(r, f.pstart);
    GET(r, f.whash);
    f.msg = get_text(r);
    f.evids = get_text(r);      /* the whole list, its final NUL included */
    if (r->bad || ru == NULL) {
        /* a rule that is gone: what the store holds of it is withdrawn */
        if (!r->bad && rule != NULL && f.whash != 0) {
            CW_GROW(e->orphans, e->caporphans, e->norphans + 1);
            e->orphans[e->norphans].rule = rule;
            e->orphans[e->norphans].case_sid = c->id;
            e->orphans[e->norphans].subject = f.subject;
            e->norphans++;
            rule = NULL;
        }
        cw__frec_free(&f);
        free(rule);
        return;
    }
    free(rule);
    f.rule = ru->index;
    cw__frec_insert(c, &f);
}

uint32_t cw__image_case(cw_engine *e, const uint8_t *p, size_t n)
{
    imgr r = { p, p + n, false, NULL, NULL, 0, 0 };
    uint32_t sid;

    if (n < 4 || memcmp(p, MAGIC, 4) != 0)
        return UINT32_MAX;
    r.p += 4;
    get_tables(e, &r);
    sid = get_str(&r);
    free(r.names);
    free(r.strs);
    return r.bad ? UINT32_MAX : sid;
}

int cw__case_from_image(cw_engine *e, cw_case *c, const uint8_t *p, size_t n)
{
    imgr r = { p, p + n, false, NULL, NULL, 0, 0 };
    uint32_t nev, len, nfr, unit, kind, cause;
    int rc = 0;

    if (n < 4 || memcmp(p, MAGIC, 4) != 0)
        return CW_EPARSE;
    r.p += 4;
    get_tables(e, &r);
    if (get_str(&r) != c->id)
        r.bad = true;
    unit = get_str(&r);
    kind = get_str(&r);
    cause = get_str(&r);
    GET(&r, c->unit_from);
    GET(&r, c->has);
    GET(&r, c->accepted_at);
    GET(&r, c->offence_at);
    GET(&r, c->last_at);
    GET(&r, nev);
    GET(&r, len);
    if (r.bad || (size_t)(r.end - r.p) < len) {
        rc = CW_EPARSE;
        goto out;
    }
    c->unit = unit;
    c->kind = kind;
    c->cause = cause;
    c->tl = cw_xmalloc(len ? len : 1);
    c->cap = c->len = c->proclen = len;
    memcpy(c->tl, r.p, len);
    r.p += len;
    c->offs = cw_xmalloc((nev ? nev : 1) * 2 * sizeof *c->offs);
    c->nev = c->nproc = 0;
    for (size_t off = 0; off < len; off += cw_rec_size(c->tl + off)) {
        cw_rec_map_ids(c->tl + off, global_name, global_str, &r);
        c->offs[c->nev++] = (uint32_t)off;
    }
    c->nproc = c->nev;
    GET(&r, nfr);
    for (uint32_t i = 0; i < nfr && !r.bad; i++)
        get_frec(e, c, &r);
    if (r.bad || c->nev != nev)
        rc = CW_EPARSE;
out:
    free(r.names);
    free(r.strs);
    return rc;
}

/* ---- blocks of records --------------------------------------------------------- */

/* Tables then the records: what put_tables of an image holds, for any
 * list of records (the cross-case indexes in a snapshot). */
void cw__records_image(const cw_engine *e, const uint8_t *const *recs, size_t n, cw_buf *out)
{
    imgw w = { e, { 0 }, { 0 }, { 0 } };
    uint32_t u;

    ltab_put(&w.strs, 0);
    u = (uint32_t)n;
    PUT(&w.body, u);
    for (size_t i = 0; i < n; i++) {
        uint32_t size = cw_rec_size(recs[i]);
        size_t at = w.body.n;
        put(&w.body, recs[i], size);
        cw_rec_map_ids((uint8_t *)w.body.p + at, local_name, local_str, &w);
    }
    put_image(&w, out);
}

int cw__records_from_image(cw_engine *e, const uint8_t *p, size_t n,
                           void (*fn)(void *ud, uint32_t i, uint8_t *rec), void *ud)
{
    imgr r = { p, p + n, false, NULL, NULL, 0, 0 };
    uint32_t count;
    int rc = 0;

    if (n < 4 || memcmp(p, MAGIC, 4) != 0)
        return CW_EPARSE;
    r.p += 4;
    get_tables(e, &r);
    GET(&r, count);
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        uint32_t size;
        uint8_t *rec;
        if ((size_t)(r.end - r.p) < 4) {
            r.bad = true;
            break;
        }
        memcpy(&size, r.p, 4);
        if (size < 33 || (size_t)(r.end - r.p) < size) {
            r.bad = true;
            break;
        }
        rec = cw_xmalloc(size);
        memcpy(rec, r.p, size);
        r.p += size;
        cw_rec_map_ids(rec, global_name, global_str, &r);
        if (!r.bad)
            fn(ud, i, rec);
        free(rec);
    }
    if (r.bad)
        rc = CW_EPARSE;
    free(r.names);
    free(r.strs);
    return rc;
}
