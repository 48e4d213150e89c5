/*
 * The lease arithmetic with a test clock: a table of leases in memory
 * stands for partition_leases, and engines act on it only through the
 * transitions the store's statements mirror (claim, renew, release,
 * fence). Claims, renewals, expiry, takeover with a growing token,
 * fencing of an engine that slept past its lease, and rebalancing when
 * engines come and go, moving as few partitions as it can. Links the
 * lease library alone.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lease/lease.h"

#define PARTS 16
#define TTL 3000000LL               /* 3 s */
#define S 1000000LL

typedef struct table {
    cw_lease l[PARTS];
    int64_t now;
} table;

/* an engine's own view: the token of each partition it claimed */
typedef struct engine {
    const char *name;
    uint64_t token[PARTS];
    bool mine[PARTS];
} engine;

static void table_init(table *t, unsigned n)
{
    memset(t, 0, sizeof *t);
    for (unsigned i = 0; i < n; i++)
        t->l[i].part = i;
    t->now = 1000 * S;
}

static unsigned held(const table *t, unsigned n, const engine *e)
{
    unsigned k = 0;

    for (unsigned i = 0; i < n; i++)
        k += cw_lease_is_mine(&t->l[i], e->name, t->now);
    return k;
}

/* One round of an engine: renew what it holds, then plan and act. Returns
 * the number of partitions that changed hands. */
static unsigned round_of(table *t, unsigned n, engine *e, unsigned live)
{
    cw_lease_plan p;
    unsigned moved = 0;

    for (unsigned i = 0; i < n; i++)
        if (e->mine[i] && !cw_lease_renew(&t->l[i], e->name, e->token[i], t->now, TTL))
            e->mine[i] = false;     /* lost: steps down from it */
    cw_lease_plan_make(t->l, n, e->name, live, t->now, &p);
    for (size_t i = 0; i < p.nrelease; i++) {
        unsigned part = p.release[i];
        assert_true(cw_lease_release(&t->l[part], e->name, e->token[part]));
        e->mine[part] = false;
        moved++;
    }
    for (size_t i = 0; i < p.nclaim; i++) {
        unsigned part = p.claim[i];
        if (cw_lease_claim(&t->l[part], e->name, t->l[part].token, t->now, TTL)) {
            e->token[part] = t->l[part].token;
            e->mine[part] = true;
            moved++;
        }
    }
    cw_lease_plan_free(&p);
    return moved;
}

static void every_partition_held_once(const table *t, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        assert_true(cw_lease_is_held(&t->l[i], t->now));
}

static void test_share(void **st)
{
    (void)st;
    assert_int_equal(cw_lease_share(256, 1), 256);
    assert_int_equal(cw_lease_share(256, 2), 128);
    assert_int_equal(cw_lease_share(256, 3), 86);
    assert_int_equal(cw_lease_share(256, 0), 256);
    assert_int_equal(cw_lease_share(1, 3), 1);
}

static void test_claim_alone(void **st)
{
    table t;
    engine a = { "a", { 0 }, { 0 } };

    (void)st;
    table_init(&t, PARTS);
    assert_int_equal(round_of(&t, PARTS, &a, 1), PARTS);
    assert_int_equal(held(&t, PARTS, &a), PARTS);
    every_partition_held_once(&t, PARTS);
    for (unsigned i = 0; i < PARTS; i++)
        assert_int_equal(t.l[i].token, 1);
    /* at its share, a second round changes nothing */
    assert_int_equal(round_of(&t, PARTS, &a, 1), 0);
}

static void test_claim_only_free(void **st)
{
    table t;

    (void)st;
    table_init(&t, PARTS);
    assert_true(cw_lease_claim(&t.l[3], "a", 0, t.now, TTL));
    /* held by a: b cannot claim it, nor with a stale token later */
    assert_false(cw_lease_claim(&t.l[3], "b", 1, t.now, TTL));
    assert_false(cw_lease_claim(&t.l[3], "b", 0, t.now + TTL + 1, TTL));
    assert_string_equal(t.l[3].owner, "a");
}

static void test_renew_and_expiry(void **st)
{
    table t;

    (void)st;
    table_init(&t, PARTS);
    assert_true(cw_lease_claim(&t.l[0], "a", 0, t.now, TTL));
    t.now += TTL - 1;
    assert_true(cw_lease_is_mine(&t.l[0], "a", t.now));
    assert_true(cw_lease_renew(&t.l[0], "a", 1, t.now, TTL));
    t.now += TTL - 1;               /* past the first expiry, within the renewed one */
    assert_true(cw_lease_is_mine(&t.l[0], "a", t.now));
    t.now += 1;                     /* exactly at expiry: gone */
    assert_false(cw_lease_is_held(&t.l[0], t.now));
    /* a renewal after expiry is refused: the engine must claim again */
    assert_false(cw_lease_renew(&t.l[0], "a", 1, t.now, TTL));
    /* and renewing under another token is refused while held */
    assert_true(cw_lease_claim(&t.l[1], "a", 0, t.now, TTL));
    assert_false(cw_lease_renew(&t.l[1], "a", 7, t.now, TTL));
}

static void test_takeover_grows_token(void **st)
{
    table t;
    engine a = { "a", { 0 }, { 0 } }, b = { "b", { 0 }, { 0 } };

    (void)st;
    table_init(&t, PARTS);
    round_of(&t, PARTS, &a, 2);
    round_of(&t, PARTS, &b, 2);
    assert_int_equal(held(&t, PARTS, &a), PARTS / 2);
    assert_int_equal(held(&t, PARTS, &b), PARTS / 2);
    /* a dies: nothing renews its leases; b takes them all over after expiry */
    for (int i = 0; i < 3; i++) {
        t.now += TTL / 3;
        round_of(&t, PARTS, &b, 2);     /* b still counts a until a's membership lapses */
    }
    assert_int_equal(held(&t, PARTS, &b), PARTS / 2);
    t.now += 1;
    assert_int_equal(round_of(&t, PARTS, &b, 1), PARTS / 2);
    assert_int_equal(held(&t, PARTS, &b), PARTS);
    for (unsigned i = 0; i < PARTS; i++)
        if (a.mine[i])
            assert_int_equal(t.l[i].token, 2);      /* a's 1, b's takeover 2 */
        else
            assert_int_equal(t.l[i].token, 1);
}

static void test_fencing(void **st)
{
    table t;
    engine a = { "a", { 0 }, { 0 } }, b = { "b", { 0 }, { 0 } };
    unsigned some = PARTS;

    (void)st;
    table_init(&t, PARTS);
    round_of(&t, PARTS, &a, 2);
    round_of(&t, PARTS, &b, 2);
    for (unsigned i = 0; i < PARTS; i++)
        if (a.mine[i]) {
            assert_true(cw_lease_fence_ok(&t.l[i], "a", a.token[i], t.now));
            some = i;
        }
    assert_true(some < PARTS);
    /* a sleeps past its lease (SIGSTOP): its writes are refused at once,
     * before anyone took over */
    t.now += TTL;
    assert_false(cw_lease_fence_ok(&t.l[some], "a", a.token[some], t.now));
    /* b takes over; a wakes up: still refused, by token now as well */
    round_of(&t, PARTS, &b, 1);
    assert_string_equal(t.l[some].owner, "b");
    assert_false(cw_lease_fence_ok(&t.l[some], "a", a.token[some], t.now));
    /* even had a claimed it again meanwhile, the old token stays refused */
    assert_true(cw_lease_release(&t.l[some], "b", b.token[some]));
    assert_true(cw_lease_claim(&t.l[some], "a", t.l[some].token, t.now, TTL));
    assert_false(cw_lease_fence_ok(&t.l[some], "a", a.token[some], t.now));
    assert_true(cw_lease_fence_ok(&t.l[some], "a", t.l[some].token, t.now));
    /* a release under a stale token does nothing */
    assert_false(cw_lease_release(&t.l[some], "a", a.token[some]));
}

static void test_rebalance_join_and_leave(void **st)
{
    table t;
    engine a = { "alpha", { 0 }, { 0 } }, b = { "beta", { 0 }, { 0 } },
           c = { "gamma", { 0 }, { 0 } };
    unsigned moved = 0;
    uint64_t before[PARTS];

    (void)st;
    table_init(&t, PARTS);
    round_of(&t, PARTS, &a, 1);
    assert_int_equal(held(&t, PARTS, &a), PARTS);
    /* b joins: a gives back exactly half, b takes it; nothing else moves */
    moved += round_of(&t, PARTS, &b, 2);    /* nothing free yet */
    assert_int_equal(moved, 0);
    moved += round_of(&t, PARTS, &a, 2);
    moved += round_of(&t, PARTS, &b, 2);
    assert_int_equal(held(&t, PARTS, &a), PARTS / 2);
    assert_int_equal(held(&t, PARTS, &b), PARTS / 2);
    assert_int_equal(moved, PARTS);         /* 8 released, 8 claimed: 8 moves */
    assert_true(a.mine[0]);                 /* partition 0 stays where it was */
    every_partition_held_once(&t, PARTS);
    /* c joins: shares ceil(16/3) = 6; a and b give back 2 each */
    for (int r = 0; r < 2; r++) {
        round_of(&t, PARTS, &a, 3);
        round_of(&t, PARTS, &b, 3);
        round_of(&t, PARTS, &c, 3);
    }
    assert_int_equal(held(&t, PARTS, &a), 6);
    assert_int_equal(held(&t, PARTS, &b), 6);
    assert_int_equal(held(&t, PARTS, &c), 4);
    every_partition_held_once(&t, PARTS);
    /* steady: rounds move nothing */
    assert_int_equal(round_of(&t, PARTS, &a, 3) + round_of(&t, PARTS, &b, 3) +
                     round_of(&t, PARTS, &c, 3), 0);
    /* c leaves cleanly: releases everything; a and b take its 4, nothing
     * of theirs moves */
    for (unsigned i = 0; i < PARTS; i++) {
        before[i] = t.l[i].token;
        if (c.mine[i]) {
            assert_true(cw_lease_release(&t.l[i], "gamma", c.token[i]));
            c.mine[i] = false;
        }
    }
    round_of(&t, PARTS, &a, 2);
    round_of(&t, PARTS, &b, 2);
    every_partition_held_once(&t, PARTS);
    assert_int_equal(held(&t, PARTS, &a) + held(&t, PARTS, &b), PARTS);
    assert_true(held(&t, PARTS, &a) <= PARTS / 2 && held(&t, PARTS, &b) <= PARTS / 2);
    for (unsigned i = 0; i < PARTS; i++)
        if (t.l[i].token != before[i])
            assert_true(strcmp(t.l[i].owner, "alpha") == 0 || strcmp(t.l[i].owner, "beta") == 0);
    {
        unsigned changed = 0;
        for (unsigned i = 0; i < PARTS; i++)
            changed += t.l[i].token != before[i];
        assert_int_equal(changed, 4);
    }
}

static void test_racing_claims(void **st)
{
    table t;
    engine b = { "b", { 0 }, { 0 } };
    uint64_t seen;

    (void)st;
    table_init(&t, PARTS);
    /* both read token 0 of partition 5; the first claim wins, the second
     * (the same read) is refused */
    seen = t.l[5].token;
    assert_true(cw_lease_claim(&t.l[5], "a", seen, t.now, TTL));
    assert_false(cw_lease_claim(&t.l[5], "b", seen, t.now, TTL));
    /* the planner then sends b elsewhere */
    round_of(&t, PARTS, &b, 2);
    assert_false(b.mine[5]);
    assert_int_equal(held(&t, PARTS, &b), PARTS / 2);
}

static void test_plan_gives_back_high_first(void **st)
{
    table t;
    cw_lease_plan p;

    (void)st;
    table_init(&t, PARTS);
    for (unsigned i = 0; i < PARTS; i++)
        assert_true(cw_lease_claim(&t.l[i], "a", 0, t.now, TTL));
    cw_lease_plan_make(t.l, PARTS, "a", 4, t.now, &p);
    assert_int_equal(p.share, 4);
    assert_int_equal(p.held, PARTS);
    assert_int_equal(p.nclaim, 0);
    assert_int_equal(p.nrelease, PARTS - 4);
    for (size_t i = 0; i < p.nrelease; i++)
        assert_true(p.release[i] >= 4);
    cw_lease_plan_free(&p);
}

/* The database's CRC32(): SELECT CRC32('123456789'), CRC32('A1-2026-001') % 256 */
static void test_partition_hash(void **st)
{
    (void)st;
    assert_int_equal(cw_lease_crc32("123456789", 9), 0xCBF43926u);
    assert_int_equal(cw_lease_crc32("", 0), 0);
    assert_int_equal(cw_lease_part("", 0, 256), 0);
    assert_int_equal(cw_lease_part("123456789", 9, 256), 0xCBF43926u % 256);
    assert_int_equal(cw_lease_part("x", 1, 1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_share),
        cmocka_unit_test(test_partition_hash),
        cmocka_unit_test(test_claim_alone),
        cmocka_unit_test(test_claim_only_free),
        cmocka_unit_test(test_renew_and_expiry),
        cmocka_unit_test(test_takeover_grows_token),
        cmocka_unit_test(test_fencing),
        cmocka_unit_test(test_rebalance_join_and_leave),
        cmocka_unit_test(test_racing_claims),
        cmocka_unit_test(test_plan_gives_back_high_first),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
