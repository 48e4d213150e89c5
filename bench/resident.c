/*
 * bench/resident: the memory the engine keeps per open case and per
 * closed case, as `casewarden serve` keeps them.
 *
 *     resident --rules DIR --events FILE.jsonl --now T
 *
 * Reads and evaluates the feed as `casewarden eval` does, but with a
 * loader of its own in the place of the service's database: a settled
 * case that leaves memory hands its image to a store outside the heap
 * (an unlinked file, and an index mapped outside malloc), and a case
 * needed again comes back from there, as it does from MariaDB in
 * `serve`. Then the evaluation's own state (the time order, the id map,
 * the run's spool: in `serve` that is the event log in MariaDB) is freed
 * and the heap in use (mallinfo2) is read three times:
 *
 *   base    the engine with its rules, before any event;
 *   end     after the feed: `live` cases in memory (open: not settled
 *           yet, or touched within the rules' memory.idle_days) and
 *           `gone` cases that left memory;
 *   closed  after the clock is moved on until every case is settled and
 *           quiet, and a sweep let every one of them leave memory.
 *
 * Per closed case: (closed - base) / cases, which charges everything the
 * engine still holds after its cases left (the case-number table, the
 * strings of units, officers and persons, the cross-case windows) to the
 * closed cases. Per open case: (end - closed) / live, what a case costs
 * in memory beyond what it costs once it left.
 *
 * Output: one line of key=value pairs (memory in bytes), read by
 * bench/run; strings, index and case table break the closed state down
 * by the engine's own count (interned strings, cross-case indexes, the
 * case-number table). `open` counts the cases in memory with at least one
 * deadline neither met nor past due at T.
 */
#include <fcntl.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "base/strtab.h"
#include "base/util.h"
#include "core/engine.h"
#include "core/engine_int.h"
#include "offline/eval.h"
#include "rules/ruleset.h"
#include "base/timeutil.h"
#include "rss.h"

/* The images of the cases that left memory: in a file, indexed by the
 * case number's string id through an array mapped outside the heap. */
#define STORE_SLOTS (1u << 26)

typedef struct img {
    uint64_t off;
    uint32_t len;            /* 0: none */
    uint32_t pad;
} img;

typedef struct store {
    int fd;
    uint64_t size;
    img *idx;
    uint64_t saves, loads, bytes;
    int bad;
} store;

static int st_save(void *ud, cw_engine *e, const char *case_id, const void *image, size_t len)
{
    store *s = ud;
    uint32_t sid = cw_engine_case_sid(e, case_id, strlen(case_id));

    if (sid >= STORE_SLOTS || len == 0 || len > UINT32_MAX ||
        pwrite(s->fd, image, len, (off_t)s->size) != (ssize_t)len) {
        s->bad = 1;
        return -1;
    }
    s->idx[sid].off = s->size;
    s->idx[sid].len = (uint32_t)len;
    s->size += len;
    s->saves++;
    s->bytes += len;
    return 0;
}

static int st_load(void *ud, cw_engine *e, const char *case_id)
{
    store *s = ud;
    uint32_t sid = cw_engine_case_sid(e, case_id, strlen(case_id));
    void *buf;
    int rc;

    if (sid >= STORE_SLOTS || s->idx[sid].len == 0)
        return 0;           /* never left: nothing stored */
    buf = cw_xmalloc(s->idx[sid].len);
    if (pread(s->fd, buf, s->idx[sid].len, (off_t)s->idx[sid].off) != (ssize_t)s->idx[sid].len) {
        free(buf);
        s->bad = 1;
        return -1;
    }
    rc = cw_engine_load_image(e, buf, s->idx[sid].len);
    free(buf);
    s->loads++;
    return rc;
}

static int null_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    (void)ud, (void)f, (void)events_json, (void)digest;
    return 0;
}

static int null_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    (void)ud, (void)rule, (void)case_id, (void)subject;
    return 0;
}

/* Bytes of the heap in use, after giving back what is free. */
static size_t heap_now(void)
{
    malloc_trim(0);
    return mallinfo2().uordblks;
}

/* Does case c hold a deadline still running at now? */
static int is_open(const cw_case *c, cw_time now)
{
    if (c == NULL)          /* a case that left memory holds nothing open */
        return 0;
    for (uint32_t i = 0; i < c->nfr; i++) {
        const cw_frec *r = &c->fr[i];
        if (r->mode == CW_FM_DEADLINE && r->met == CW_TIME_NONE && r->due >= now)
            return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *rules = NULL, *events = NULL, *now_s = NULL;
    cw_load_opts lo = { NULL, stderr };
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_err err = { 0 };
    cw_sink sink = { null_upsert, null_remove, NULL };
    store s = { 0 };
    cw_loader l = { st_load, st_save, &s, NULL };
    char path[4096];
    const char *tmpdir = getenv("TMPDIR");
    cw_world *w;
    cw_ruleset *rs = NULL;
    cw_engine *e;
    cw_eval *ev;
    size_t heap0, heap1, heap2, rss1, eng1, eng2, live1, live2, open = 0, changes, cases;
    uint64_t gone1;
    int rc = 0;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--rules") == 0)
            rules = argv[i + 1];
        else if (strcmp(argv[i], "--events") == 0)
            events = argv[i + 1];
        else if (strcmp(argv[i], "--now") == 0)
            now_s = argv[i + 1];
    }
    if (rules == NULL || events == NULL || now_s == NULL || argc != 7 ||
        cw_time_parse(now_s, strlen(now_s), &o.now, NULL) < 0) {
        fputs("usage: resident --rules DIR --events FILE.jsonl --now T\n"
              "The memory the engine keeps per open case and per closed case.\n",
              stderr);
        return 2;
    }
    snprintf(path, sizeof path, "%s/cw-resident-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if ((s.fd = mkstemp(path)) < 0) {
        perror("resident: mkstemp");
        return 2;
    }
    unlink(path);
    s.idx = mmap(NULL, (size_t)STORE_SLOTS * sizeof *s.idx, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s.idx == MAP_FAILED) {
        perror("resident: mmap");
        return 2;
    }
    w = cw_world_new();
    if (cw_ruleset_load(&rs, w, rules, &lo, &err) < 0) {
        fprintf(stderr, "resident: rules in %s not loaded: %s\n", rules, err.msg);
        cw_world_free(w);
        return 2;
    }
    e = cw_engine_new(w, rs);
    cw_engine_set_loader(e, &l, rs->idle_s);
    heap0 = heap_now();
    ev = cw_eval_new(e);
    if (cw_eval_read(ev, events, &o, &st, &err) < 0) {
        fprintf(stderr, "resident: %s\n", err.msg);
        cw_eval_free(ev);
        cw_engine_free(e);
        cw_ruleset_free(rs);
        cw_world_free(w);
        return 2;
    }
    cw_eval_run(ev, &o, &st);
    cw_eval_free(ev);
    cw_engine_trim(e);
    heap1 = heap_now();
    rss1 = rss_now();
    eng1 = cw_engine_memory(e);
    live1 = cw_engine_live(e);
    gone1 = cw_engine_evicted(e) - cw_engine_loaded(e);
    for (size_t i = 0; i < cw_engine_ncases(e); i++)
        open += (size_t)is_open(cw_engine_case_at(e, i), o.now);

    /* Every case settled and quiet: move the clock on by ten years and
     * twice the idle time, flush what changed by then, and sweep. */
    {
        cw_time later = (e->clock > o.now ? e->clock : o.now) + 10 * 366 * 86400LL +
                        2 * rs->idle_s;
        cw_engine_tick(e, later);
        cw_engine_flush(e, later, &sink, &changes);
        cw_engine_flush_end(e, true);
        e->clock = later;
        cw__sweep(e);
    }
    heap2 = heap_now();
    eng2 = cw_engine_memory(e);
    live2 = cw_engine_live(e);
    cases = live1 + (size_t)gone1;
    if (s.bad) {
        fprintf(stderr, "resident: the image store failed\n");
        rc = 2;
    } else if (heap0 == 0 || heap1 <= heap0 || heap2 == 0) {
        /* mallinfo2 counts nothing under another allocator (ASan's) */
        fprintf(stderr, "resident: the heap in use cannot be read here (mallinfo2 gave %zu, %zu, %zu)\n",
                heap0, heap1, heap2);
        rc = 2;
    }
    if (rc == 0)
        printf("resident events=%zu cases=%zu live=%zu gone=%llu open=%zu left_live=%zu "
               "heap_base=%zu heap_end=%zu heap_closed=%zu rss_end=%zu engine_end=%zu "
               "engine_closed=%zu open_case=%.0f closed_case=%.0f saves=%llu loads=%llu "
               "image_bytes=%llu strings=%u strings_bytes=%zu index_bytes=%zu case_table_bytes=%zu "
               "read_s=%.2f rules_s=%.2f\n",
               st.accepted, cases, live1, (unsigned long long)gone1, open, live2, heap0, heap1,
               heap2, rss1, eng1, eng2,
               live1 > live2 ? ((double)heap1 - (double)heap2) / (double)(live1 - live2) : 0.0,
               cases > live2 ? ((double)heap2 - (double)heap0) / (double)(cases - live2) : 0.0,
               (unsigned long long)s.saves, (unsigned long long)s.loads,
               (unsigned long long)s.bytes, cw_strtab_count(w->strs), cw_strtab_bytes(w->strs),
               cw__index_memory(e), e->ncase_of * sizeof *e->case_of + e->capcases * sizeof *e->cases,
               st.read_s, st.process_s);
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
    munmap(s.idx, (size_t)STORE_SLOTS * sizeof *s.idx);
    close(s.fd);
    return rc;
}
