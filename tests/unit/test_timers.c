/*
 * The timing wheel against a plain sorted list of the same timers: many
 * thousands of random timers, from the past to decades ahead, several in
 * the same second, with the clock moved by random steps from nothing to
 * years at once. Every timer must fire exactly once, never before its
 * time, in the advance that passes it, and in time order; the count and
 * the clock must agree with the list after every call.
 *
 * A timer added at or before the clock is due at once: it counts as due
 * at the clock it was added at, and fires at the next advance, whatever
 * that advance's target.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/timers.h"
#include "base/timeutil.h"

#define T2026 1767196800LL          /* 2026-01-01T00:00:00+08:00 */
#define DAY 86400LL
#define YEAR (365LL * DAY)

/* ---- a deterministic generator (splitmix64) ---- */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t between(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
}

/* ---- the reference ---- */

typedef struct ref_timer {
    cw_time when;           /* as given to cw_timers_add */
    cw_time eff;            /* when it is due: max(when, clock at add) */
    int fired;              /* how many times the wheel fired it */
} ref_timer;

typedef struct ref {
    cw_timers *t;
    cw_time clock;          /* what cw_timers_clock must say */
    ref_timer *v;           /* by payload */
    size_t n, cap;
    uint32_t *pending;      /* payloads not yet fired, sorted by eff */
    size_t npending, cappending;
    uint32_t *log;          /* payloads fired by the current advance */
    size_t nlog, caplog;
    size_t total_fired;
} ref;

static void ref_init(ref *r, cw_time start)
{
    memset(r, 0, sizeof *r);
    r->t = cw_timers_new(start);
    r->clock = start;
    assert_non_null(r->t);
    assert_int_equal(cw_timers_count(r->t), 0);
    assert_int_equal(cw_timers_clock(r->t), start);
}

static void ref_free(ref *r)
{
    cw_timers_free(r->t);
    free(r->v);
    free(r->pending);
    free(r->log);
}

static void *grow(void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = *cap ? *cap * 2 : 1024;
    if (*cap < need)
        *cap = need;
    p = realloc(p, *cap * size);
    assert_non_null(p);
    return p;
}

/* Add a timer to the wheel and to the list; returns its payload. */
static uint32_t ref_add(ref *r, cw_time when)
{
    uint32_t id = (uint32_t)r->n;
    cw_time eff = when > r->clock ? when : r->clock;
    size_t lo = 0, hi = r->npending;

    r->v = grow(r->v, &r->cap, r->n + 1, sizeof *r->v);
    r->v[r->n++] = (ref_timer){ when, eff, 0 };
    /* after every pending timer with the same or an earlier due time */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (r->v[r->pending[mid]].eff <= eff)
            lo = mid + 1;
        else
            hi = mid;
    }
    r->pending = grow(r->pending, &r->cappending, r->npending + 1, sizeof *r->pending);
    memmove(&r->pending[lo + 1], &r->pending[lo], (r->npending - lo) * sizeof *r->pending);
    r->pending[lo] = id;
    r->npending++;
    cw_timers_add(r->t, when, id);
    assert_int_equal(cw_timers_count(r->t), r->npending);
    assert_int_equal(cw_timers_clock(r->t), r->clock);
    return id;
}

static void on_fire(void *ud, uint32_t payload)
{
    ref *r = ud;

    r->log = grow(r->log, &r->caplog, r->nlog + 1, sizeof *r->log);
    r->log[r->nlog++] = payload;
}

static char *fmt_time(cw_time t, char *buf)
{
    cw_time_format(t, 8 * 60, buf, 32);
    return buf;
}

/* Advance the wheel to now and check what fired against the list. */
static void ref_advance(ref *r, cw_time now)
{
    cw_time target = now > r->clock ? now : r->clock;
    size_t expect = 0, n;
    cw_time last = INT64_MIN;
    char b1[32], b2[32], b3[32];

    while (expect < r->npending && r->v[r->pending[expect]].eff <= target)
        expect++;
    r->nlog = 0;
    n = cw_timers_advance(r->t, now, on_fire, r);
    assert_int_equal(n, r->nlog);
    for (size_t i = 0; i < r->nlog; i++) {
        uint32_t id = r->log[i];
        ref_timer *x;

        if (id >= r->n)
            fail_msg("fired payload %u was never added", id);
        x = &r->v[id];
        if (x->fired)
            fail_msg("timer %u (due %s) fired twice", id, fmt_time(x->eff, b1));
        x->fired = 1;
        if (x->eff > target)
            fail_msg("timer %u due %s fired early, by the advance to %s", id,
                     fmt_time(x->eff, b1), fmt_time(target, b2));
        if (x->eff < last)
            fail_msg("timer %u due %s fired after one due %s", id, fmt_time(x->eff, b1),
                     fmt_time(last, b2));
        last = x->eff;
    }
    /* Each fired timer was pending and due by target, and none fired
     * twice: so the same number means exactly the list's prefix fired. */
    if (n != expect) {
        for (size_t i = 0; i < r->npending; i++) {
            ref_timer *x = &r->v[r->pending[i]];
            if (x->eff <= target && !x->fired)
                fail_msg("timer %u due %s (added as %s) did not fire by the advance to %s "
                         "(%zu of %zu fired)", r->pending[i], fmt_time(x->eff, b1),
                         fmt_time(x->when, b2), fmt_time(target, b3), n, expect);
        }
        fail_msg("%zu timers fired, %zu expected", n, expect);
    }
    if (expect > 0) {
        memmove(r->pending, r->pending + expect, (r->npending - expect) * sizeof *r->pending);
        r->npending -= expect;
    }
    r->total_fired += n;
    r->clock = target;
    assert_int_equal(cw_timers_count(r->t), r->npending);
    assert_int_equal(cw_timers_clock(r->t), r->clock);
}

/* ---- random runs ---- */

/* A time for a new timer, seen from the clock: anything from years in
 * the past to decades ahead, often on a level boundary of the wheel or in
 * the very second of a timer already there. */
static cw_time random_when(const ref *r)
{
    static const int64_t edges[] = {
        1, 2, 255, 256, 257, 511, 512, 65535, 65536, 65537, 131072,
        (1LL << 24) - 1, 1LL << 24, (1LL << 24) + 1, (1LL << 25),
        (1LL << 32) - (1LL << 24), (1LL << 32) - 2,
    };
    cw_time c = r->clock;
    int k = (int)between(0, 99);

    if (k < 10)
        return c - between(1, 5 * YEAR);
    if (k < 13)
        return c;
    if (k < 28)
        return c + between(1, 300);
    if (k < 43)
        return c + between(1, 2 * DAY);
    if (k < 60)
        return c + between(1, 200 * DAY);
    if (k < 75)
        return c + between(1, 40 * YEAR);
    if (k < 87 && r->npending > 0)
        return r->v[r->pending[between(0, (int64_t)r->npending - 1)]].when;
    if (k < 94)
        return c + edges[between(0, sizeof edges / sizeof *edges - 1)];
    /* the next multiple of 2^8, 2^16 or 2^24, or one second either side */
    {
        int bits = 8 * (int)between(1, 3);
        cw_time aligned = ((c >> bits) + between(1, 3)) << bits;
        return aligned + between(-1, 1);
    }
}

/* How far to move the clock: nothing, seconds, or months and years at
 * once; or exactly onto (or just before) a pending timer. */
static cw_time random_step(const ref *r)
{
    int k = (int)between(0, 99);

    if (k < 5)
        return 0;
    if (k < 30)
        return between(1, 300);
    if (k < 50)
        return between(1, DAY);
    if (k < 70)
        return between(1, 31 * DAY);
    if (k < 76)
        return between(31 * DAY, 200 * DAY);
    if (k < 79)
        return between(YEAR, 4 * YEAR);
    if (k < 84)
        return -between(1, 1000);          /* backwards: the clock stays */
    if (r->npending > 0) {
        size_t i = (size_t)between(0, (int64_t)(r->npending < 50 ? r->npending : 50) - 1);
        cw_time d = r->v[r->pending[i]].eff - r->clock;
        return d - between(0, 1);
    }
    return between(1, 1000);
}

static void random_run(uint64_t seed, cw_time start, int rounds)
{
    ref r;

    rng_state = seed;
    ref_init(&r, start);
    for (int i = 0; i < rounds; i++) {
        int add = (int)between(0, 60);

        for (int j = 0; j < add; j++)
            ref_add(&r, random_when(&r));
        ref_advance(&r, r.clock + random_step(&r));
    }
    assert_true(r.n > (size_t)rounds * 20);
    /* Whatever is left fires in one jump of decades, or a century. */
    ref_advance(&r, r.npending ? r.v[r.pending[r.npending - 1]].eff : r.clock);
    assert_int_equal(r.npending, 0);
    assert_int_equal(cw_timers_count(r.t), 0);
    assert_int_equal(r.total_fired, r.n);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.v[i].fired, 1);
    ref_free(&r);
}

static void test_random_from_2026(void **state)
{
    (void)state;
    random_run(20260101, T2026 + 37, 600);
}

static void test_random_other_seed(void **state)
{
    (void)state;
    random_run(0x5eed, T2026 - 12345, 600);
}

/* A clock just short of 2^32 s (2106) crosses the top level's boundary. */
static void test_random_across_top_boundary(void **state)
{
    (void)state;
    random_run(7, (1LL << 32) - 5000, 400);
}

/* A clock on a boundary of every level at once. */
static void test_random_from_aligned_clock(void **state)
{
    (void)state;
    random_run(99, 1LL << 32, 400);
}

/* ---- single behaviours ---- */

static void test_empty_wheel(void **state)
{
    ref r;

    (void)state;
    ref_init(&r, T2026);
    ref_advance(&r, T2026);
    ref_advance(&r, T2026 + 1);
    ref_advance(&r, T2026 + 10 * YEAR);
    /* the clock never goes back */
    ref_advance(&r, T2026);
    assert_int_equal(cw_timers_clock(r.t), T2026 + 10 * YEAR);
    ref_free(&r);
}

static void test_fires_at_its_second_not_before(void **state)
{
    ref r;

    (void)state;
    ref_init(&r, T2026);
    ref_add(&r, T2026 + 100);
    ref_add(&r, T2026 + 100);
    ref_add(&r, T2026 + 101);
    ref_advance(&r, T2026 + 99);
    assert_int_equal(r.total_fired, 0);
    ref_advance(&r, T2026 + 100);
    assert_int_equal(r.total_fired, 2);
    ref_advance(&r, T2026 + 100);
    assert_int_equal(r.total_fired, 2);
    ref_advance(&r, T2026 + 101);
    assert_int_equal(r.total_fired, 3);
    ref_free(&r);
}

/* A timer at or before the clock fires at the next advance, even one that
 * does not move the clock, or would move it back. */
static void test_past_timer_fires_at_next_advance(void **state)
{
    ref r;

    (void)state;
    ref_init(&r, T2026);
    ref_add(&r, T2026 - 5 * YEAR);
    ref_add(&r, T2026 - 1);
    ref_add(&r, T2026);
    ref_add(&r, T2026 + 1);
    ref_advance(&r, T2026);
    assert_int_equal(r.total_fired, 3);
    assert_int_equal(cw_timers_count(r.t), 1);
    ref_add(&r, 0);
    ref_advance(&r, T2026 - DAY);
    assert_int_equal(r.total_fired, 4);
    assert_int_equal(cw_timers_clock(r.t), T2026);
    /* a past timer fires before one due later in the same advance */
    ref_add(&r, T2026 - 3);
    ref_advance(&r, T2026 + 1);
    assert_int_equal(r.total_fired, 6);
    assert_int_equal(r.log[0], 5);
    assert_int_equal(r.log[1], 3);
    ref_free(&r);
}

/* Timers on both sides of every level's reach, from a clock in the middle
 * of a turn, reached first by a jump to one second before, then by one
 * second more; and the same in a single jump over all of them. */
static void test_level_edges(void **state)
{
    static const int64_t off[] = {
        1, 255, 256, 257, 65535, 65536, 65537, (1LL << 24) - 1, 1LL << 24,
        (1LL << 24) + 1, (1LL << 32) - 1,
    };
    const size_t n = sizeof off / sizeof *off;
    ref r;

    (void)state;
    ref_init(&r, T2026 + 123);
    for (size_t i = 0; i < n; i++)
        ref_add(&r, T2026 + 123 + off[i]);
    for (size_t i = 0; i < n; i++) {
        ref_advance(&r, T2026 + 123 + off[i] - 1);
        assert_int_equal(r.total_fired, i);
        ref_advance(&r, T2026 + 123 + off[i]);
        assert_int_equal(r.total_fired, i + 1);
    }
    ref_free(&r);

    ref_init(&r, T2026 + 123);
    for (size_t i = 0; i < n; i++)
        ref_add(&r, T2026 + 123 + off[i]);
    ref_advance(&r, T2026 + 123 + (1LL << 32) - 2);
    assert_int_equal(r.total_fired, n - 1);
    ref_advance(&r, T2026 + 123 + (1LL << 32));
    assert_int_equal(r.total_fired, n);
    ref_free(&r);
}

/* Beyond the top level's reach (2^32 s, 136 years) a timer waits and is
 * placed again; it still fires at its own second. */
static void test_beyond_the_top_level(void **state)
{
    const cw_time far = T2026 + (1LL << 32) + 5 * YEAR + 17;
    ref r;

    (void)state;
    ref_init(&r, T2026);
    ref_add(&r, far);
    ref_add(&r, far + 1);
    ref_add(&r, T2026 + 30 * YEAR);
    ref_advance(&r, T2026 + 100 * YEAR);
    assert_int_equal(r.total_fired, 1);
    ref_advance(&r, far - 1);
    assert_int_equal(r.total_fired, 1);
    ref_advance(&r, far);
    assert_int_equal(r.total_fired, 2);
    ref_advance(&r, far + 1);
    assert_int_equal(r.total_fired, 3);
    ref_free(&r);
}

/* Months and years in one advance: everything between fires, in order. */
static void test_big_jumps_fire_in_order(void **state)
{
    ref r;

    (void)state;
    rng_state = 42;
    ref_init(&r, T2026);
    for (int i = 0; i < 5000; i++)
        ref_add(&r, T2026 + between(1, 20 * YEAR));
    ref_advance(&r, T2026 + 45 * DAY);
    ref_advance(&r, T2026 + 2 * YEAR);
    ref_advance(&r, T2026 + 2 * YEAR + 5);
    ref_advance(&r, T2026 + 19 * YEAR);
    ref_advance(&r, T2026 + 21 * YEAR);
    assert_int_equal(r.total_fired, 5000);
    assert_int_equal(cw_timers_count(r.t), 0);
    ref_free(&r);
}

/* Slots and entries freed by firing are used again. */
static void test_reuse_after_firing(void **state)
{
    ref r;

    (void)state;
    rng_state = 3;
    ref_init(&r, T2026);
    for (int round = 0; round < 50; round++) {
        for (int i = 0; i < 2000; i++)
            ref_add(&r, r.clock + between(0, 3 * DAY));
        ref_advance(&r, r.clock + 3 * DAY);
        assert_int_equal(cw_timers_count(r.t), 0);
    }
    assert_int_equal(r.total_fired, 100000);
    ref_free(&r);
}

/* Freeing a wheel with timers still pending at every level releases them
 * (AddressSanitizer's leak check runs at exit). */
static void test_free_with_pending(void **state)
{
    cw_timers *t = cw_timers_new(T2026);

    (void)state;
    rng_state = 11;
    for (uint32_t i = 0; i < 20000; i++)
        cw_timers_add(t, T2026 + between(-DAY, 60 * YEAR), i);
    assert_int_equal(cw_timers_count(t), 20000);
    cw_timers_free(t);
    cw_timers_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_wheel),
        cmocka_unit_test(test_fires_at_its_second_not_before),
        cmocka_unit_test(test_past_timer_fires_at_next_advance),
        cmocka_unit_test(test_level_edges),
        cmocka_unit_test(test_beyond_the_top_level),
        cmocka_unit_test(test_big_jumps_fire_in_order),
        cmocka_unit_test(test_reuse_after_firing),
        cmocka_unit_test(test_free_with_pending),
        cmocka_unit_test(test_random_from_2026),
        cmocka_unit_test(test_random_other_seed),
        cmocka_unit_test(test_random_across_top_boundary),
        cmocka_unit_test(test_random_from_aligned_clock),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
