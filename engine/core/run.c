/*
 * A time-ordered run over many events: their records are spooled (in
 * memory, then in an unlinked temporary file past a size) with a sort
 * key each, then processed in (at, seq) order across cases, so that the
 * result does not depend on the order they were added in. While the run
 * goes on it is the engine's loader: a case that left memory comes back
 * from the spool (the events of it already processed), its findings from
 * the caller. What it keeps is the spool and about 24 bytes an event.
 */
#include "core/run.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/util.h"
#include "core/engine_int.h"

#define SPOOL_MEMORY (96u << 20)     /* records kept in memory before spilling */
#define SPOOL_CHUNK (1u << 20)       /* read-back window */


/* The sort key of an event: time, then its number. */
typedef struct ord {
    cw_time at;
    uint32_t evno;
    uint32_t csid;
} ord;

/* The spool of records: a memory arena, and past SPOOL_MEMORY a
 * temporary file, read back through a window. */
typedef struct spool {
    uint8_t *mem;
    size_t nmem, capmem;
    FILE *file;
    uint64_t nfile;          /* bytes in the file; file offsets start at capmem */
    uint8_t *win;            /* SPOOL_CHUNK bytes of the file from winoff */
    uint64_t winoff;
    size_t winlen;
    uint8_t *big;            /* a record longer than the window */
    size_t capbig;
} spool;

struct cw_run {
    cw_engine *e;
    spool sp;
    uint64_t *pos;           /* by the order of adding: where the record is */
    size_t npos, cappos;
    ord *ord;
    size_t nord, capord;
    bool sorted;
    uint64_t *image;         /* by case string id: its latest image + 1 */
    size_t nimage;
    uint8_t *rec;            /* the record being stored, copied out of the spool */
    size_t caprec;
};

/* ---- the spool -------------------------------------------------------------- */

static void spool_free(spool *s)
{
    free(s->mem);
    free(s->win);
    free(s->big);
    if (s->file)
        fclose(s->file);
}

/* Spool size bytes starting with their size (a record, or a sized image). */
static uint64_t spool_put(spool *s, const uint8_t *rec, uint32_t size)
{
    uint64_t off;

    if (s->file == NULL && s->nmem + size <= SPOOL_MEMORY) {
        if (s->capmem - s->nmem < size) {
            size_t cap = s->capmem ? s->capmem * 2 : 1u << 20;
            while (cap - s->nmem < size)
                cap *= 2;
            s->mem = cw_xrealloc(s->mem, cap > SPOOL_MEMORY ? SPOOL_MEMORY : cap);
            s->capmem = cap > SPOOL_MEMORY ? SPOOL_MEMORY : cap;
        }
        memcpy(s->mem + s->nmem, rec, size);
        off = s->nmem;
        s->nmem += size;
        return off;
    }
    if (s->file == NULL && (s->file = tmpfile()) == NULL) {
        cw_log(CW_LOG_ERROR, "cannot create a temporary file for the events (%s)",
               strerror(errno));
        abort();
    }
    off = SPOOL_MEMORY + s->nfile;
    if (fwrite(rec, 1, size, s->file) != size) {
        cw_log(CW_LOG_ERROR, "writing the temporary file of events failed (%s)",
               strerror(errno));
        abort();
    }
    s->nfile += size;
    return off;
}

static bool spool_read(spool *s, uint64_t at, void *buf, size_t len)
{
    fflush(s->file);
    return pread(fileno(s->file), buf, len, (off_t)at) == (ssize_t)len;
}

/* The record at off (valid until the next call). */
static const uint8_t *spool_get(spool *s, uint64_t off)
{
    uint64_t fo;
    uint32_t size;

    if (off < SPOOL_MEMORY)
        return s->mem + off;
    fo = off - SPOOL_MEMORY;
    if (s->win == NULL)
        s->win = cw_xmalloc(SPOOL_CHUNK);
    if (fo < s->winoff || fo + 4 > s->winoff + s->winlen) {
        size_t want = s->nfile - fo < SPOOL_CHUNK ? (size_t)(s->nfile - fo) : SPOOL_CHUNK;
        if (!spool_read(s, fo, s->win, want))
            return NULL;
        s->winoff = fo;
        s->winlen = want;
    }
    memcpy(&size, s->win + (fo - s->winoff), 4);
    if (fo + size <= s->winoff + s->winlen)
        return s->win + (fo - s->winoff);
    if (size > SPOOL_CHUNK) {
        if (s->capbig < size)
            s->big = cw_xrealloc(s->big, s->capbig = size);
        return spool_read(s, fo, s->big, size) ? s->big : NULL;
    }
    size_t want = s->nfile - fo < SPOOL_CHUNK ? (size_t)(s->nfile - fo) : SPOOL_CHUNK;
    if (!spool_read(s, fo, s->win, want))
        return NULL;
    s->winoff = fo;
    s->winlen = want;
    return s->win;
}

/* ---- the run ------------------------------------------------------------------ */

cw_run *cw_run_new(cw_engine *e)
{
    cw_run *r = cw_xcalloc(1, sizeof *r);

    r->e = e;
    r->sorted = true;
    return r;
}

void cw_run_free(cw_run *r)
{
    if (r == NULL)
        return;
    if (r->e->loader.ud == r)
        cw_engine_set_loader(r->e, NULL, 0);
    spool_free(&r->sp);
    free(r->rec);
    free(r->pos);
    free(r->ord);
    free(r->image);
    free(r);
}

uint32_t cw_run_add(cw_run *r, const uint8_t *rec, uint32_t csid)
{
    uint32_t evno = (uint32_t)r->npos;
    cw_time at = cw_rec_at(rec);

    CW_GROW(r->pos, r->cappos, r->npos + 1);
    r->pos[evno] = spool_put(&r->sp, rec, cw_rec_size(rec));
    r->npos++;
    CW_GROW(r->ord, r->capord, r->nord + 1);
    if (r->nord > 0 && r->ord[r->nord - 1].at > at)
        r->sorted = false;
    r->ord[r->nord].at = at;
    r->ord[r->nord].evno = evno;
    r->ord[r->nord].csid = csid;
    r->nord++;
    return evno;
}

const uint8_t *cw_run_record(cw_run *r, uint32_t evno)
{
    return evno < r->npos ? spool_get(&r->sp, r->pos[evno]) : NULL;
}

size_t cw_run_size(const cw_run *r)
{
    return r->npos;
}

/* The loader while the run goes on: images into the spool and back.
 * An image is spooled behind its size, so that the spool reads it as it
 * reads a record. */
static int save_case(void *ud, cw_engine *e, const char *case_id, const void *image, size_t len)
{
    cw_run *r = ud;
    uint32_t sid = cw_strtab_find(e->w->strs, case_id, strlen(case_id)), size = (uint32_t)len + 4;
    uint8_t *buf;

    if (sid == UINT32_MAX || len > UINT32_MAX - 4)
        return CW_EINVAL;
    buf = cw_xmalloc(size);
    memcpy(buf, &size, 4);
    memcpy(buf + 4, image, len);
    CW_GROW_ZEROED(r->image, r->nimage, sid);
    r->image[sid] = spool_put(&r->sp, buf, size) + 1;
    free(buf);
    return 0;
}

static int load_case(void *ud, cw_engine *e, const char *case_id)
{
    cw_run *r = ud;
    uint32_t sid = cw_strtab_find(e->w->strs, case_id, strlen(case_id));
    const uint8_t *p;
    uint32_t size;

    if (sid == UINT32_MAX || sid >= r->nimage || r->image[sid] == 0)
        return CW_ENOTFOUND;
    if ((p = spool_get(&r->sp, r->image[sid] - 1)) == NULL)
        return CW_EIO;
    memcpy(&size, p, 4);
    return cw_engine_load_image(e, p + 4, size - 4);
}

static int ord_cmp(const void *pa, const void *pb)
{
    const ord *a = pa, *b = pb;

    return cw_atseq_cmp(a->at, a->evno, b->at, b->evno);
}

/*
 * Order events by (at, event number). A file already in time order costs
 * nothing; otherwise an LSD radix sort on (at - earliest) << 32 | number,
 * eight bits a pass, skipping the passes where every key agrees. Spans of
 * more than 136 years fall back to qsort.
 */
static void order(cw_run *r)
{
    size_t n = r->nord, count[256];
    cw_time lo = INT64_MAX, hi = INT64_MIN;
    ord *tmp, *src = r->ord, *dst;
    uint64_t *key;

    if (r->sorted || n < 2)
        return;
    for (size_t i = 0; i < n; i++) {
        lo = src[i].at < lo ? src[i].at : lo;
        hi = src[i].at > hi ? src[i].at : hi;
    }
    if ((uint64_t)(hi - lo) >= (1ULL << 32)) {
        qsort(src, n, sizeof *src, ord_cmp);
        return;
    }
    key = cw_xmalloc(2 * n * sizeof *key);
    tmp = cw_xmalloc(n * sizeof *tmp);
    dst = tmp;
    for (size_t i = 0; i < n; i++)
        key[i] = ((uint64_t)(src[i].at - lo) << 32) | src[i].evno;
    for (int shift = 0; shift < 64; shift += 8) {
        uint64_t *k = key, *kd = key + n;
        size_t sum = 0;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++)
            count[(k[i] >> shift) & 0xff]++;
        if (count[(k[0] >> shift) & 0xff] == n)
            continue;
        for (int b = 0; b < 256; b++) {
            size_t c = count[b];
            count[b] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++) {
            size_t d = count[(k[i] >> shift) & 0xff]++;
            dst[d] = src[i];
            kd[d] = k[i];
        }
        memcpy(key, kd, n * sizeof *key);
        ord *t = src;
        src = dst;
        dst = t;
    }
    if (src != r->ord)
        memcpy(r->ord, src, n * sizeof *src);
    free(tmp);
    free(key);
}

void cw_run_process(cw_run *r, void (*every)(void *ud), void *ud, size_t n)
{
    cw_loader mine = { load_case, save_case, r, NULL };

    order(r);
    /* the cases that leave the engine now come back from this spool, as
     * long as the run lives (cw_run_free) */
    if (r->e->loader.load == NULL)
        cw_engine_set_loader(r->e, &mine, r->e->rs->idle_s);
    for (size_t i = 0; i < r->nord; i++) {
        const uint8_t *rec = spool_get(&r->sp, r->pos[r->ord[i].evno]);
        cw_case *c;
        bool in_order;
        size_t size;
        if (rec == NULL) {
            cw_log(CW_LOG_ERROR, "an event could not be read back from the spool; it is left out");
            continue;
        }
        /* Storing may bring the case back from this spool, or send others
         * to it, which reuses the window rec points into (or moves the
         * memory it lies in): store a copy. */
        size = cw_rec_size(rec);
        if (r->caprec < size)
            r->rec = cw_xrealloc(r->rec, r->caprec = size);
        memcpy(r->rec, rec, size);
        cw_engine_store(r->e, r->ord[i].csid, r->rec, &c, &in_order);
        /* in time order a case's next record is this one, unless the case
         * came back from the spool: then it is judged from its start */
        if (in_order)
            cw_engine_process_next(r->e, c);
        else
            cw_engine_catch_up(r->e, c, true);
        if (every != NULL && n > 0 && (i + 1) % n == 0)
            every(ud);
    }
    r->nord = 0;
    r->sorted = true;
}
