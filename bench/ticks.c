/*
 * bench/ticks: what the deadline clock costs, and whether that cost grows
 * with the number of open deadlines (it must not: engine/timers.h is a
 * hierarchical timing wheel so that a tick costs the same at ten thousand
 * and at ten million).
 *
 *     ticks wheel --open N [--reps R]
 *     ticks engine --rules DIR --open N
 *
 * `wheel` measures engine/timers.c alone. N deadlines are spread evenly
 * over 180 days starting one day ahead, and the clock is advanced one
 * second at a time, as the service does:
 *   - quiet: the first hour, in which nothing falls due and no slot that
 *     holds anything comes round: the bare cost of a tick;
 *   - day: the first day, still with nothing due, but an 18-hour slot of
 *     the wheel's third level comes round and the deadlines in it (those
 *     due in the 18 hours after it) move down a level: the bookkeeping
 *     every deadline costs once or twice before it falls due, paid in the
 *     one tick at which its slot comes round;
 *   - firing: one hour of ticks with exactly one deadline falling due in
 *     each (3,600 of the N sit at the next 3,600 seconds), so the work per
 *     tick is the same whatever N is and only the open count differs.
 * Each is run R times on a new wheel; the mean is the best of the runs
 * (what the code costs when nothing else gets in the way) and the worst
 * tick is the smallest of the runs' worst ticks, so that a preemption that
 * hit one run does not pass for the cost of moving a slot down.
 *
 * `engine` measures the same through the engine with the rules of DIR:
 * N alarms (alarm.received, criminal: ALARM-ACCEPT, 24 h with a 4 h
 * warning) are evaluated, their findings flushed to a sink that stores
 * nothing (which arms one timer per open deadline), and the clock then
 * advanced one second at a time with a flush after every tick, as
 * `serve` does: first one hour in which one alarm enters its warning
 * window each second (one finding written per tick), then, once those
 * alarms have fallen due in turn, twelve hours in which nothing changes.
 * Each span is timed in slices (600 and 4,800 ticks) and the best slice
 * kept, for the reason above. It also prints the resident memory before
 * and after the alarms were loaded, for the bytes one open case costs.
 *
 * Output: one line of key=value pairs (times in ns, memory in bytes), read
 * by bench/run.
 */
#include <malloc.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/engine.h"
#include "offline/eval.h"
#include "rules/ruleset.h"
#include "core/timers.h"
#include "base/timeutil.h"
#include "rss.h"

#define TZ 480                      /* +08:00 */
#define HOUR 3600
#define DAY 86400
#define SPREAD (180 * DAY)          /* "over the next months" */
#define PROBES 3600                 /* one firing a second for an hour */
#define IDLE (12 * HOUR)            /* the engine's quiet ticks */
/* bench/gen's `now`. A fixed instant, so that every run sees the same
 * slots come round: the third level's turn 2 h 42 min and 20 h 55 min
 * later, outside the one-hour spans and inside the day. */
#define T0_TEXT "2026-12-18T15:00:00+08:00"

static cw_time t0;

static double mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static uint64_t splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static _Noreturn void usage(void)
{
    fputs("usage: ticks wheel --open N [--reps R]\n"
          "       ticks engine --rules DIR --open N\n"
          "Cost of advancing the deadline clock one second at a time with N open\n"
          "deadlines: the timing wheel alone, or through the engine (bench/README.md).\n",
          stderr);
    exit(2);
}

static bool parse_size(const char *s, size_t *out)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);

    if (end == s || *end != '\0' || v == 0)
        return false;
    *out = (size_t)v;
    return true;
}

/* ---- the wheel alone ---------------------------------------------------- */

/* The callback must do something the compiler cannot drop. */
static void on_fire(void *ud, uint32_t payload)
{
    *(uint64_t *)ud += payload;
}

/* A wheel at t0 with `open` deadlines: `probes` of them one a second from
 * t0 + 1, the others spread over SPREAD from one day ahead. *add_ns gets
 * the mean cost of an add. */
static cw_timers *fill(size_t open, size_t probes, double *add_ns)
{
    uint64_t x = 7;
    cw_timers *t = cw_timers_new(t0);
    double start = mono_ns();

    for (size_t i = 0; i < probes; i++)
        cw_timers_add(t, t0 + 1 + (cw_time)i, (uint32_t)i);
    for (size_t i = probes; i < open; i++)
        cw_timers_add(t, t0 + DAY + 1 + (cw_time)(splitmix(&x) % SPREAD), (uint32_t)i);
    *add_ns = (mono_ns() - start) / (double)open;
    return t;
}

typedef struct run {
    double mean_ns;             /* per tick */
    double worst_ns;            /* the slowest tick */
    size_t fired;
} run;

/* Advance t one second at a time for `ticks` seconds, timed as a whole
 * (the mean) and then, on a second wheel built the same way, tick by tick
 * (the worst tick; timing each tick adds the clock's own cost, so the
 * mean is not taken from that pass). */
static run measure(size_t open, size_t probes, size_t ticks, double *add_ns)
{
    uint64_t sink = 0;
    run r = { 0, 0, 0 };
    cw_timers *t = fill(open, probes, add_ns);
    double start = mono_ns(), dummy;

    for (size_t i = 1; i <= ticks; i++)
        r.fired += cw_timers_advance(t, t0 + (cw_time)i, on_fire, &sink);
    r.mean_ns = (mono_ns() - start) / (double)ticks;
    cw_timers_free(t);

    t = fill(open, probes, &dummy);
    for (size_t i = 1; i <= ticks; i++) {
        double a = mono_ns(), d;
        cw_timers_advance(t, t0 + (cw_time)i, on_fire, &sink);
        d = mono_ns() - a;
        if (d > r.worst_ns)
            r.worst_ns = d;
    }
    cw_timers_free(t);
    /* keep the callback's work observable */
    if (sink == 42)
        fputc(' ', stderr);
    return r;
}

/* Keep the best mean and the smallest worst tick over the runs. */
static void keep_best(run *best, const run *r)
{
    if (r->mean_ns < best->mean_ns)
        best->mean_ns = r->mean_ns;
    if (r->worst_ns < best->worst_ns)
        best->worst_ns = r->worst_ns;
    best->fired = r->fired;
}

static int wheel_bench(size_t open, int reps)
{
    run quiet = { 1e300, 1e300, 0 }, day = quiet, fire = quiet;
    double add_ns = 1e300;

    if (open < PROBES) {
        fprintf(stderr, "ticks: --open must be at least %d\n", PROBES);
        return 2;
    }
    for (int k = 0; k < reps; k++) {
        double a;
        /* The first hour: nothing due and no far slot comes round. */
        run r = measure(open, 0, HOUR, &a);
        if (a < add_ns)
            add_ns = a;
        keep_best(&quiet, &r);
        /* The first day: still nothing due, but an 18-hour slot of the
         * third level comes round and its deadlines move down a level. */
        r = measure(open, 0, DAY, &a);
        keep_best(&day, &r);
        r = measure(open, PROBES, HOUR, &a);
        keep_best(&fire, &r);
    }
    printf("wheel open=%zu reps=%d add_ns=%.1f quiet_ticks=%d quiet_ns=%.1f quiet_worst_ns=%.0f "
           "day_ticks=%d day_ns=%.1f day_worst_ns=%.0f fire_ticks=%d fire_fired=%zu fire_ns=%.1f "
           "fire_worst_ns=%.0f\n",
           open, reps, add_ns, HOUR, quiet.mean_ns, quiet.worst_ns, DAY, day.mean_ns,
           day.worst_ns, HOUR, fire.fired, fire.mean_ns, fire.worst_ns);
    return quiet.fired == 0 && day.fired == 0 && fire.fired == PROBES ? 0 : 1;
}

/* ---- through the engine ------------------------------------------------- */

static int sink_upsert(void *ud, const cw_finding *f, const char *events_json, uint64_t digest)
{
    (void)f;
    (void)events_json;
    (void)digest;
    ++*(size_t *)ud;
    return 0;
}

static int sink_remove(void *ud, const char *rule, const char *case_id, const char *subject)
{
    (void)rule;
    (void)case_id;
    (void)subject;
    ++*(size_t *)ud;
    return 0;
}

/* Tick and flush from t0 + from to t0 + to, one second at a time, timed
 * in slices of `slice` ticks; returns the best slice's mean ns per tick,
 * *written the findings the sink was given. */
static double engine_ticks(cw_engine *e, const cw_sink *sink, long from, long to, long slice,
                           size_t *written)
{
    double best = 1e300;

    for (long s = from; s + slice - 1 <= to; s += slice) {
        double start = mono_ns(), mean;
        for (long i = s; i < s + slice; i++) {
            size_t changes = 0;
            cw_engine_tick(e, t0 + i);
            if (cw_engine_flush(e, t0 + i, sink, &changes) == 0)
                cw_engine_flush_end(e, true);
            *written += changes;
        }
        mean = (mono_ns() - start) / (double)slice;
        if (mean < best)
            best = mean;
    }
    return best;
}

static int engine_bench(const char *rules, size_t open)
{
    cw_load_opts lo = { NULL, stderr };
    cw_eval_opts o = { 0 };
    cw_eval_stats st = { 0 };
    cw_err err = { 0 };
    cw_world *w = cw_world_new();
    cw_ruleset *rs = NULL;
    cw_engine *e;
    cw_eval *ev;
    size_t rss0, rss1, armed, counted = 0, upserts = 0, fire_w = 0, due_w = 0, idle_w = 0;
    cw_sink sink = { sink_upsert, sink_remove, &upserts };
    uint64_t x = 11;
    double start, load_s, fire_ns, idle_ns;
    int rc = 0;

    if (open < PROBES) {
        fprintf(stderr, "ticks: --open must be at least %d\n", PROBES);
        return 2;
    }
    if (cw_ruleset_load(&rs, w, rules, &lo, &err) < 0) {
        fprintf(stderr, "ticks: rules in %s not loaded: %s\n", rules, err.msg);
        cw_world_free(w);
        return 2;
    }
    e = cw_engine_new(w, rs);
    ev = cw_eval_new(e);
    o.now = t0;
    malloc_trim(0);
    rss0 = rss_now();
    start = mono_ns();
    /* The probes enter their warning window (24 h - 4 h after the alarm)
     * at t0 + 1 .. t0 + 3600; the others, raised in the last two hours,
     * between t0 + 18 h and t0 + 20 h. The probes fall due 4 h after
     * they entered their window, so nothing changes from t0 + 5 h to
     * t0 + 18 h. */
    for (size_t i = 0; i < open; i++) {
        char at[32], line[320];
        cw_time a = i < PROBES ? t0 - 20 * HOUR + 1 + (cw_time)i
                               : t0 - (cw_time)(splitmix(&x) % (2 * HOUR));
        int n;
        cw_time_format(a, TZ, at, sizeof at);
        n = snprintf(line, sizeof line,
                     "{\"id\":\"tick-%09zu\",\"type\":\"alarm.received\",\"case\":\"J370102%011zu\","
                     "\"unit\":\"370102\",\"at\":\"%s\",\"data\":{\"alarm\":\"J370102%011zu\","
                     "\"category\":\"criminal\"}}",
                     i, i, at, i);
        if (cw_eval_add(ev, line, (size_t)n, "ticks", i + 1, &o, &st, &err) < 0) {
            fprintf(stderr, "ticks: event %zu refused: %s\n", i, err.msg);
            rc = 2;
            goto out;
        }
    }
    cw_eval_run(ev, &o, &st);
    /* The first flush writes nothing (no alarm is in its window yet) but
     * arms one timer per open deadline, as the service's first flush
     * after a rebuild does. */
    cw_engine_tick(e, t0);
    if (cw_engine_flush(e, t0, &sink, &counted) == 0)
        cw_engine_flush_end(e, true);
    load_s = (mono_ns() - start) / 1e9;
    /* The reader's own state (id map, time order) is gone once the events
     * are in: what remains is what the service keeps. */
    cw_eval_free(ev);
    ev = NULL;
    malloc_trim(0);
    rss1 = rss_now();
    armed = cw_engine_timers(e);

    fire_ns = engine_ticks(e, &sink, 1, HOUR, 600, &fire_w);
    /* untimed: the probes falling due */
    engine_ticks(e, &sink, HOUR + 1, 6 * HOUR, 5 * HOUR, &due_w);
    idle_ns = engine_ticks(e, &sink, 6 * HOUR + 1, 6 * HOUR + IDLE, 4800, &idle_w);
    printf("engine open=%zu timers=%zu cases=%zu load_s=%.2f rss_base=%zu rss=%zu engine_bytes=%zu "
           "fire_ticks=%d fire_written=%zu fire_ns=%.0f due_written=%zu idle_ticks=%d "
           "idle_written=%zu idle_ns=%.1f\n",
           open, armed, cw_engine_ncases(e), load_s, rss0, rss1, cw_engine_memory(e), HOUR, fire_w,
           fire_ns, due_w, IDLE, idle_w, idle_ns);
    if (counted != 0 || fire_w != PROBES || idle_w != 0) {
        fprintf(stderr, "ticks: expected 0, %d and 0 findings written, got %zu, %zu and %zu\n",
                PROBES, counted, fire_w, idle_w);
        rc = 1;
    }
out:
    cw_eval_free(ev);
    cw_engine_free(e);
    cw_ruleset_free(rs);
    cw_world_free(w);
    return rc;
}

int main(int argc, char **argv)
{
    const char *mode, *rules = NULL;
    size_t open = 0, reps = 5;

    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        usage();
    mode = argv[1];
    for (int i = 2; i < argc; i += 2) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v == NULL)
            usage();
        if (strcmp(a, "--open") == 0 && parse_size(v, &open))
            ;
        else if (strcmp(a, "--reps") == 0 && parse_size(v, &reps) && reps <= 1000)
            ;
        else if (strcmp(a, "--rules") == 0)
            rules = v;
        else
            usage();
    }
    if (open == 0 || open > UINT32_MAX)
        usage();
    if (cw_time_parse(T0_TEXT, strlen(T0_TEXT), &t0, NULL) < 0)
        return 2;
    if (strcmp(mode, "wheel") == 0)
        return wheel_bench(open, (int)reps);
    if (strcmp(mode, "engine") == 0 && rules != NULL)
        return engine_bench(rules, open);
    usage();
}
