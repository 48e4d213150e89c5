/*
 * The engine's state at one moment, in a form another process reads
 * back: the cases in memory (their images), the cases out of memory
 * (their numbers: their images are where the loader keeps them), the
 * cross-case indexes, the models' states across cases, the clock. The
 * rules' per-case states are rebuilt from the timelines when it is read
 * back, as when a case comes back from its image.
 *
 *     "CWS1" i64 clock
 *     u32 n, n x (u32 len, image)              cases in memory
 *     u32 n, n x (u32 len, case number)        cases out of memory
 *     u32 n, n x index entry                   (spec u32, value, refs)
 *     u32 len, records block                   the refs' records
 *     u32 n, n x (rule id, u32 len, state)     models' states
 * Strings: u32 len, bytes.
 */
#include <stdlib.h>
#include <string.h>

#include "base/util.h"
#include "core/engine_int.h"
#include "core/timers.h"

#define MAGIC "CWS1"

static void put(cw_buf *b, const void *p, size_t n)
{
    cw_buf_put(b, p, n);
}

#define PUT(b, v) put((b), &(v), sizeof(v))

static void put_str(cw_buf *b, const char *s, size_t len)
{
    uint32_t n = (uint32_t)len;

    PUT(b, n);
    put(b, s, len);
}

static void put_sid(cw_buf *b, const cw_engine *e, uint32_t sid)
{
    put_str(b, cw_strtab_str(e->w->strs, sid), cw_strtab_len(e->w->strs, sid));
}

static void model_put(void *w, const void *p, size_t n)
{
    cw_buf_put(w, p, n);
}

static void put_models(cw_engine *e, cw_buf *out)
{
    cw_buf state = { 0 };
    uint32_t n = 0;
    size_t count_at = out->n;

    PUT(out, n);
    for (size_t i = 0; i < e->rs->nrules; i++) {
        cw_rule *r = e->rs->rules[i];
        cw_ctx ctx;
        uint32_t len;
        if (!cw_model_saves(r->model))
            continue;
        cw__ctx_init(&ctx, e, e->rs, r);
        state.n = 0;
        if (r->model->save(r->inst, &ctx, model_put, &state) != 0)
            continue;
        put_str(out, r->info.id, strlen(r->info.id));
        len = (uint32_t)state.n;
        PUT(out, len);
        put(out, state.p, state.n);
        n++;
    }
    memcpy(out->p + count_at, &n, sizeof n);
    cw_buf_free(&state);
}

static void put_index(const cw_engine *e, cw_buf *out)
{
    const uint8_t **recs = NULL;
    size_t nrecs = 0, caprecs = 0;
    uint32_t n = (uint32_t)e->nient, len;
    cw_buf block = { 0 };

    PUT(out, n);
    for (size_t i = 0; i < e->nient; i++) {
        const cw_ientry *ie = &e->ient[i];
        uint32_t spec = (uint32_t)(ie->key >> 32), refs = ie->n;
        PUT(out, spec);
        put_sid(out, e, (uint32_t)(ie->key & 0xffffffffu));
        PUT(out, refs);
        for (uint32_t j = 0; j < ie->n; j++) {
            const cw_iref *r = &ie->v[j];
            uint8_t has = r->rec != NULL;
            PUT(out, r->at);
            PUT(out, r->seq);
            put_sid(out, e, r->csid);
            PUT(out, has);
            if (has) {
                CW_GROW(recs, caprecs, nrecs + 1);
                recs[nrecs++] = r->rec;
            }
        }
    }
    cw__records_image(e, recs, nrecs, &block);
    len = (uint32_t)block.n;
    PUT(out, len);
    put(out, block.p, block.n);
    cw_buf_free(&block);
    free(recs);
}

int cw_engine_snapshot(cw_engine *e, cw_buf *out)
{
    cw_buf img = { 0 };
    uint32_t n = 0;
    size_t at;

    if (e->ndirty > 0 || e->norphans > 0)
        return CW_EINVAL;       /* flush first: what is stored is what is written */
    put(out, MAGIC, 4);
    PUT(out, e->clock);
    at = out->n;
    PUT(out, n);
    for (size_t i = 0; i < e->ncases; i++) {
        const cw_case *c = e->cases[i];
        uint32_t len;
        if (c == NULL || c->nev == 0)
            continue;
        img.n = 0;
        cw__case_image(e, c, &img);
        len = (uint32_t)img.n;
        PUT(out, len);
        put(out, img.p, img.n);
        n++;
    }
    memcpy(out->p + at, &n, sizeof n);
    n = 0;
    at = out->n;
    PUT(out, n);
    for (size_t sid = 0; sid < e->ncase_of; sid++)
        if (e->case_of[sid] == CW_CASE_GONE) {
            put_sid(out, e, (uint32_t)sid);
            n++;
        }
    memcpy(out->p + at, &n, sizeof n);
    put_index(e, out);
    put_models(e, out);
    cw_buf_free(&img);
    return 0;
}

/* ---- reading it back --------------------------------------------------------- */

typedef struct snapr {
    const uint8_t *p, *end;
    bool bad;
} snapr;

static void get(snapr *r, void *v, size_t n)
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

/* A string of the snapshot, interned; its bytes in *s, *len. */
static uint32_t get_sid(cw_engine *e, snapr *r)
{
    uint32_t len;

    GET(r, len);
    if (r->bad || (size_t)(r->end - r->p) < len) {
        r->bad = true;
        return 0;
    }
    r->p += len;
    return cw_strtab_intern(e->w->strs, (const char *)r->p - len, len);
}

/* A block of the snapshot: its length, then its bytes. */
static const uint8_t *get_block(snapr *r, uint32_t *len)
{
    GET(r, *len);
    if (r->bad || (size_t)(r->end - r->p) < *len) {
        r->bad = true;
        return NULL;
    }
    r->p += *len;
    return r->p - *len;
}

typedef struct ref_fill {
    cw_iref **slots;         /* the refs with a record, in order */
    size_t n;
} ref_fill;

static void fill_rec(void *ud, uint32_t i, uint8_t *rec)
{
    ref_fill *rf = ud;

    if (i < rf->n) {
        uint32_t size = cw_rec_size(rec);
        rf->slots[i]->rec = cw_xmalloc(size);
        memcpy(rf->slots[i]->rec, rec, size);
    }
}

static void get_index(cw_engine *e, snapr *r)
{
    ref_fill rf = { NULL, 0 };
    size_t cap = 0;
    uint32_t n, len;
    const uint8_t *block;

    GET(r, n);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t spec, value, refs;
        cw_ientry *ie;
        GET(r, spec);
        value = get_sid(e, r);
        GET(r, refs);
        if (r->bad || spec >= e->rs->nidx)
            break;
        CW_GROW(e->ient, e->capient, e->nient + 1);
        ie = &e->ient[e->nient++];
        memset(ie, 0, sizeof *ie);
        ie->key = (uint64_t)spec << 32 | value;
        /* every ref takes more than a byte: a count beyond that is damage */
        if (refs > (size_t)(r->end - r->p)) {
            r->bad = true;
            break;
        }
        /* sized once, so the slots below keep pointing at their refs */
        ie->cap = refs;
        ie->v = refs ? cw_xmalloc(refs * sizeof *ie->v) : NULL;
        for (uint32_t j = 0; j < refs && !r->bad; j++) {
            cw_iref *x;
            uint8_t has;
            x = &ie->v[ie->n++];
            GET(r, x->at);
            GET(r, x->seq);
            x->csid = get_sid(e, r);
            x->rec = NULL;
            GET(r, has);
            if (has) {
                CW_GROW(rf.slots, cap, rf.n + 1);
                rf.slots[rf.n++] = x;
            }
        }
    }
    /* the slots point into the ient[].v arrays, which do not move */
    block = get_block(r, &len);
    if (block != NULL && cw__records_from_image(e, block, len, fill_rec, &rf) < 0)
        r->bad = true;
    free(rf.slots);
    cw__index_rehash(e);
}

static int get_models(cw_engine *e, snapr *r)
{
    uint32_t n;

    GET(r, n);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t len, sid = get_sid(e, r);
        const uint8_t *state = get_block(r, &len);
        cw_rule *rule = cw_ruleset_find(e->rs, cw_strtab_str(e->w->strs, sid));
        cw_ctx ctx;
        if (r->bad)
            break;
        if (rule == NULL || !cw_model_saves(rule->model))
            return CW_ERULE;
        cw__ctx_init(&ctx, e, e->rs, rule);
        if (rule->model->load(rule->inst, &ctx, state, len) != 0)
            return CW_ERULE;
    }
    return r->bad ? CW_EPARSE : 0;
}

int cw_engine_restore(cw_engine *e, const void *data, size_t n)
{
    snapr r = { data, (const uint8_t *)data + n, false };
    uint32_t count;
    int rc;

    if (e->ncases > 0 || n < 4 || memcmp(data, MAGIC, 4) != 0)
        return CW_EPARSE;
    r.p += 4;
    GET(&r, e->clock);
    GET(&r, count);
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        uint32_t len;
        const uint8_t *img = get_block(&r, &len);
        uint32_t sid;
        cw_case *c;
        if (img == NULL)
            break;
        /* the case number is the image's first string after its tables:
         * let the image say it, into a case made for it */
        if ((sid = cw__image_case(e, img, len)) == UINT32_MAX) {
            r.bad = true;
            break;
        }
        c = cw__case_new(e, sid);
        if (cw__case_from_image(e, c, img, len) < 0)
            r.bad = true;
    }
    GET(&r, count);
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        uint32_t sid = get_sid(e, &r);
        CW_GROW_ZEROED(e->case_of, e->ncase_of, sid);
        if (e->case_of[sid] == 0)
            e->case_of[sid] = CW_CASE_GONE;
    }
    if (!r.bad)
        get_index(e, &r);
    if (r.bad)
        return CW_EPARSE;
    if ((rc = get_models(e, &r)) < 0)
        return rc;
    if (r.p != r.end)
        return CW_EPARSE;
    /* the rules' per-case states, the heap of quiet cases, the timers */
    for (size_t i = 0; i < e->ncases; i++) {
        cw_case *c = e->cases[i];
        if (c == NULL)
            continue;
        cw__case_rebuild_states(e, c);
        cw__case_touch(e, c);
        cw__mark_dirty(e, c);   /* the next flush arms its timers (and writes nothing) */
    }
    return 0;
}

/* ---- a partition's cases ----------------------------------------------------- */

int cw_engine_case_images(cw_engine *e, bool (*keep)(void *ud, const char *case_id),
                          void (*fn)(void *ud, const char *case_id, const void *image, size_t len),
                          void *ud)
{
    cw_buf img = { 0 };

    if (e->ndirty > 0 || e->norphans > 0)
        return CW_EINVAL;
    for (size_t i = 0; i < e->ncases; i++) {
        const cw_case *c = e->cases[i];
        const char *id;
        if (c == NULL || c->nev == 0)
            continue;
        id = cw_strtab_str(e->w->strs, c->id);
        if (!keep(ud, id))
            continue;
        img.n = 0;
        cw__case_image(e, c, &img);
        fn(ud, id, img.p, img.n);
    }
    cw_buf_free(&img);
    return 0;
}

int cw_engine_add_image(cw_engine *e, const void *image, size_t len)
{
    uint32_t sid = cw__image_case(e, image, len);
    cw_case *c;

    if (sid == UINT32_MAX)
        return CW_EPARSE;
    if (cw__case_live(e, sid) != NULL)
        return CW_EINVAL;
    c = cw__case_new(e, sid);
    if (cw__case_from_image(e, c, image, len) < 0)
        return CW_EPARSE;
    cw__case_rebuild_states(e, c);
    cw__case_touch(e, c);
    cw__mark_dirty(e, c);
    return 0;
}
