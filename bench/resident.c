/*
 * bench/resident: the memory the engine keeps for the cases of a feed.
 *
 *     resident --rules DIR --events FILE.jsonl --now T
 *
 * Reads and evaluates the feed as `casewarden eval` does, then frees the
 * reader's own state (the id map for duplicates and the time order, which
 * the service also drops once it has rebuilt) and prints the resident set
 * before the events and after them. `casewarden eval --stats` gives the
 * peak instead, which is reached while that transient state is still
 * held, and the engine's own count of its bytes, which leaves out the
 * allocator's overhead and the Lua states' growth; the resident set after
 * the load is what a running service pays for its cases.
 *
 * Output: one line of key=value pairs (memory in bytes), read by
 * bench/run. `open` counts the cases with at least one deadline neither
 * met nor past due at T; the engine keeps every case, open or not.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "offline/eval.h"
#include "rules/ruleset.h"
#include "base/timeutil.h"
#include "rss.h"

static double mono_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t rss_peak(void)
{
    struct rusage ru;

    return getrusage(RUSAGE_SELF, &ru) == 0 ? (size_t)ru.ru_maxrss * 1024 : 0;
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
    cw_world *w;
    cw_ruleset *rs = NULL;
    cw_engine *e;
    cw_eval *ev;
    size_t rss0, rss1, open = 0;
    double t, trim_s;

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
              "The resident memory the engine keeps for the cases of a feed.\n",
              stderr);
        return 2;
    }
    w = cw_world_new();
    if (cw_ruleset_load(&rs, w, rules, &lo, &err) < 0) {
        fprintf(stderr, "resident: rules in %s not loaded: %s\n", rules, err.msg);
        cw_world_free(w);
        return 2;
    }
    e = cw_engine_new(w, rs);
    ev = cw_eval_new(e);
    malloc_trim(0);
    rss0 = rss_now();
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
    /* Give back what the freed reader state left in the heap, so that
     * what is counted is what is still in use. */
    t = mono_s();
    malloc_trim(0);
    trim_s = mono_s() - t;
    rss1 = rss_now();
    for (size_t i = 0; i < cw_engine_ncases(e); i++)
        open += (size_t)is_open(cw_engine_case_at(e, i), o.now);
    printf("resident events=%zu cases=%zu open=%zu rss_base=%zu rss=%zu rss_peak=%zu "
           "engine_bytes=%zu read_s=%.2f rules_s=%.2f trim_s=%.2f\n",
           st.accepted, cw_engine_ncases(e), open, rss0, rss1, rss_peak(), cw_engine_memory(e),
           st.read_s, st.process_s, trim_s);
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return 0;
}
