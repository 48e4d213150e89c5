#include "event/record.h"

#include <stdlib.h>
#include <string.h>

#include "base/util.h"

#define HDR 33

cw_world *cw_world_new(void)
{
    cw_world *w = cw_xcalloc(1, sizeof *w);

    w->names = cw_strtab_new();
    w->strs = cw_strtab_new();
    return w;
}

void cw_world_free(cw_world *w)
{
    if (w == NULL)
        return;
    cw_strtab_free(w->names);
    cw_strtab_free(w->strs);
    free(w);
}

static inline uint8_t *put(uint8_t *o, const void *v, size_t n)
{
    memcpy(o, v, n);
    return o + n;
}

size_t cw_rec_encode(cw_world *w, const cw_pevent *pe, uint64_t seq, uint8_t **buf,
                     size_t *len, size_t *cap)
{
    size_t need = HDR + pe->id.len + 1, items = 0;
    uint8_t *o, *start;
    uint32_t size, u32;
    uint16_t u16;

    if (pe->nf > CW_MAX_FIELDS)
        return 0;
    for (uint32_t i = 0; i < pe->nf; i++) {
        const cw_pfield *f = &pe->f[i];
        need += 3;
        switch (f->kind) {
        case CW_V_BOOL: need += 1; break;
        case CW_V_INT: case CW_V_TIME: need += 8; break;
        case CW_V_DATE: case CW_V_STR: need += 4; break;
        case CW_V_LIST: need += 2 + 4 * (size_t)f->nitems; items += f->nitems; break;
        case CW_V_RAW: need += 4 + f->s.len + 1; break;
        default: break;
        }
    }
    if (items > CW_MAX_ITEMS)
        return 0;
    /* Field ids are 16 bits: a new name beyond that is refused rather
     * than folded onto another field. */
    for (uint32_t i = 0; i < pe->nf; i++)
        if (pe->f[i].spec == NULL &&
            cw_strtab_find(w->names, pe->f[i].key.p, pe->f[i].key.len) == UINT32_MAX &&
            cw_strtab_count(w->names) > 0xffff)
            return 0;
    if (*cap - *len < need) {
        size_t c = *cap ? *cap : 64;
        while (c - *len < need)
            c += c / 2 + 64;
        *buf = cw_xrealloc(*buf, c);
        *cap = c;
    }
    o = start = *buf + *len;
    size = (uint32_t)need;
    o = put(o, &size, 4);
    o = put(o, &pe->at, 8);
    o = put(o, &seq, 8);
    u16 = (uint16_t)pe->type->id;
    o = put(o, &u16, 2);
    u16 = (uint16_t)pe->nf;
    o = put(o, &u16, 2);
    u32 = cw_strtab_intern(w->strs, pe->unit.p, pe->unit.len);
    o = put(o, &u32, 4);
    u32 = cw_strtab_intern(w->strs, pe->actor.p, pe->actor.len);
    o = put(o, &u32, 4);
    *o++ = (uint8_t)pe->id.len;
    o = put(o, pe->id.p, pe->id.len);
    *o++ = 0;
    for (uint32_t i = 0; i < pe->nf; i++) {
        const cw_pfield *f = &pe->f[i];
        int32_t d;
        u16 = (uint16_t)(f->spec ? f->spec->fid
                                 : (int)cw_strtab_intern(w->names, f->key.p, f->key.len));
        o = put(o, &u16, 2);
        *o++ = f->kind;
        switch (f->kind) {
        case CW_V_BOOL:
            *o++ = (uint8_t)(f->i != 0);
            break;
        case CW_V_INT:
        case CW_V_TIME:
            o = put(o, &f->i, 8);
            break;
        case CW_V_DATE:
            d = (int32_t)f->i;
            o = put(o, &d, 4);
            break;
        case CW_V_STR:
            u32 = cw_strtab_intern(w->strs, f->s.p, f->s.len);
            o = put(o, &u32, 4);
            break;
        case CW_V_LIST:
            u16 = (uint16_t)f->nitems;
            o = put(o, &u16, 2);
            for (uint32_t j = 0; j < f->nitems; j++) {
                const cw_slice *it = &pe->items[f->item0 + j];
                u32 = cw_strtab_intern(w->strs, it->p, it->len);
                o = put(o, &u32, 4);
            }
            break;
        case CW_V_RAW:
            o = put(o, &f->s.len, 4);
            o = put(o, f->s.p, f->s.len);
            *o++ = 0;
            break;
        default:
            break;
        }
    }
    *len += need;
    (void)start;
    return need;
}

void cw_rec_decode(const uint8_t *rec, cw_evbuf *b)
{
    const uint8_t *p = rec + 4;
    cw_event *ev = &b->ev;
    uint32_t items = 0;
    uint16_t nf;

    memcpy(&ev->at, p, 8);
    memcpy(&ev->seq, p + 8, 8);
    memcpy(&ev->type, p + 16, 2);
    memcpy(&nf, p + 18, 2);
    memcpy(&ev->unit, p + 20, 4);
    memcpy(&ev->actor, p + 24, 4);
    ev->id = (const char *)rec + HDR;
    ev->case_id = 0;
    p = rec + HDR + rec[HDR - 1] + 1;
    for (uint16_t i = 0; i < nf; i++) {
        cw_fval *f = &b->f[i];
        int32_t d;
        uint16_t n;
        memcpy(&f->fid, p, 2);
        f->kind = p[2];
        f->reserved = 0;
        f->n = 0;
        p += 3;
        switch (f->kind) {
        case CW_V_BOOL:
            f->v.i = *p++;
            break;
        case CW_V_INT:
        case CW_V_TIME:
            memcpy(&f->v.i, p, 8);
            p += 8;
            break;
        case CW_V_DATE:
            memcpy(&d, p, 4);
            f->v.i = d;
            p += 4;
            break;
        case CW_V_STR:
            memcpy(&f->v.s, p, 4);
            p += 4;
            break;
        case CW_V_LIST:
            memcpy(&n, p, 2);
            p += 2;
            memcpy(&b->items[items], p, 4 * (size_t)n);
            f->v.list = &b->items[items];
            f->n = n;
            items += n;
            p += 4 * (size_t)n;
            break;
        case CW_V_RAW:
            memcpy(&f->n, p, 4);
            f->v.raw = (const char *)p + 4;
            p += 4 + f->n + 1;
            break;
        default:
            f->v.i = 0;
            break;
        }
    }
    ev->nf = nf;
    ev->f = b->f;
}

static inline void map_u32(uint8_t *p, uint32_t (*fn)(void *, uint32_t), void *ud)
{
    uint32_t v;

    memcpy(&v, p, 4);
    v = fn(ud, v);
    memcpy(p, &v, 4);
}

static inline void map_u16(uint8_t *p, uint32_t (*fn)(void *, uint32_t), void *ud)
{
    uint16_t v;

    memcpy(&v, p, 2);
    v = (uint16_t)fn(ud, v);
    memcpy(p, &v, 2);
}

void cw_rec_map_ids(uint8_t *rec, uint32_t (*name)(void *ud, uint32_t id),
                    uint32_t (*str)(void *ud, uint32_t id), void *ud)
{
    uint8_t *p = rec + 4;
    uint16_t nf;

    map_u16(p + 16, name, ud);          /* type */
    memcpy(&nf, p + 18, 2);
    map_u32(p + 20, str, ud);           /* unit */
    map_u32(p + 24, str, ud);           /* actor */
    p = rec + HDR + rec[HDR - 1] + 1;
    for (uint16_t i = 0; i < nf; i++) {
        uint8_t kind = p[2];
        uint16_t n;
        uint32_t len;
        map_u16(p, name, ud);           /* field id */
        p += 3;
        switch (kind) {
        case CW_V_BOOL: p += 1; break;
        case CW_V_INT: case CW_V_TIME: p += 8; break;
        case CW_V_DATE: p += 4; break;
        case CW_V_STR: map_u32(p, str, ud); p += 4; break;
        case CW_V_LIST:
            memcpy(&n, p, 2);
            p += 2;
            for (uint16_t k = 0; k < n; k++, p += 4)
                map_u32(p, str, ud);
            break;
        case CW_V_RAW:
            memcpy(&len, p, 4);
            p += 4 + len + 1;
            break;
        default: break;
        }
    }
}

uint64_t cw_rec_body_hash(const uint8_t *rec, uint32_t case_id)
{
    const uint8_t *p = rec + HDR + rec[HDR - 1] + 1, *end = rec + cw_rec_size(rec);
    uint64_t h = cw_hash(rec + 4, 8) ^ (cw_hash(rec + 20, 12) * 31) ^
                 (cw_hash(rec + HDR - 1, (size_t)rec[HDR - 1] + 1) * 131) ^
                 ((uint64_t)case_id * 0x9e3779b97f4a7c15ULL);

    /* Fields are summed, not chained, so that their order does not count. */
    while (p < end) {
        const uint8_t *f = p;
        uint32_t n32;
        uint16_t n16;
        p += 3;
        switch (f[2]) {
        case CW_V_BOOL: p += 1; break;
        case CW_V_INT: case CW_V_TIME: p += 8; break;
        case CW_V_DATE: case CW_V_STR: p += 4; break;
        case CW_V_LIST: memcpy(&n16, p, 2); p += 2 + 4 * (size_t)n16; break;
        case CW_V_RAW: memcpy(&n32, p, 4); p += 4 + (size_t)n32 + 1; break;
        default: break;
        }
        h += cw_hash(f, (size_t)(p - f));
    }
    return h;
}
